// The report's stylesheet, inlined into the page (no file beside it, no
// network). Kept in a .ts module so that it ships with the compiled package.
export const REPORT_CSS = `
:root { --ok: #2e9d4f; --changed: #d99a00; --failed: #d6333a; --unreachable: #8b1a1f; --skipped: #7ca3b8; --ignored: #b05fc4; --ink: #1f2328; --dim: #656d76; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; padding: 20px 28px 40px; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; color: var(--dim); }
.meta { color: var(--dim); margin: 0; }
.meta b { color: var(--ink); font-weight: 600; }
code, pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
.legend { display: flex; gap: 14px; margin: 0 0 8px; color: var(--dim); font-size: 12px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 5px; border-radius: 2px; background: var(--c); vertical-align: -1px; }
.timeline { display: grid; grid-template-columns: max-content 1fr; column-gap: 12px; row-gap: 6px; align-items: center; }
.host { font-weight: 600; text-align: right; }
.lane { position: relative; height: 34px; background: repeating-linear-gradient(90deg, #f6f8fa 0 1px, transparent 1px 10%); border: 1px solid var(--line); border-radius: 4px; }
.bar { position: absolute; top: 5px; height: 14px; min-width: 2px; border-radius: 2px; background: var(--c); opacity: .9; box-shadow: inset -1px 0 0 #fff; }
.bar:hover { opacity: 1; outline: 2px solid var(--ink); z-index: 2; }
.bar.failed, .bar.unreachable { top: 2px; height: 20px; outline: 2px solid var(--failed); z-index: 1; }
.mark { position: absolute; top: 21px; font-size: 10px; line-height: 12px; color: var(--failed); white-space: nowrap; max-width: 45%; overflow: hidden; text-overflow: ellipsis; }
.mark.right { transform: translateX(-100%); }
.axis { position: relative; height: 16px; font-size: 11px; color: var(--dim); }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.axis span:last-child:not(:first-child) { transform: translateX(-100%); }
.ok { --c: var(--ok); } .changed { --c: var(--changed); } .failed { --c: var(--failed); } .unreachable { --c: var(--unreachable); } .skipped { --c: var(--skipped); } .ignored { --c: var(--ignored); }
table { border-collapse: collapse; }
th, td { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n.hot { font-weight: 700; color: var(--c); }
.failures li { margin: 0 0 8px; }
.failures pre { margin: 4px 0 0; white-space: pre-wrap; color: var(--failed); }
details { border: 1px solid var(--line); border-radius: 4px; margin: 0 0 6px; }
summary { cursor: pointer; padding: 4px 8px; }
summary .st { font-size: 12px; color: var(--dim); }
summary .has-diff { font-size: 11px; padding: 0 4px; border: 1px solid var(--changed); border-radius: 3px; color: #7d4e00; }
details > div { padding: 4px 12px 8px; }
.result { margin: 4px 0; }
.badge { display: inline-block; min-width: 64px; padding: 0 6px; border-radius: 3px; color: #fff; background: var(--c); font-size: 12px; text-align: center; }
pre.diff { margin: 4px 0 8px; padding: 6px 8px; background: #f6f8fa; border-radius: 4px; overflow-x: auto; }
.diff .add { color: #116329; background: #dafbe1; } .diff .del { color: #82071e; background: #ffebe9; } .diff .hunk { color: #0550ae; } .diff .mod { color: #7d4e00; }
.notes li { color: var(--dim); }
`;
