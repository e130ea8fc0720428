import type { RecapCounts } from '../../model/events.ts';
import { formatDiff } from '../diff-format.ts';
import { makeChalk, ms } from '../style.ts';
import type { HostRun, RunRecord, TaskRun } from './record.ts';
import { REPORT_CSS } from './style.ts';
import type { PlanEvent } from '../plan-format.ts';
import { resumedAt } from '../resume-format.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text into HTML, for element content and quoted attributes alike. */
export const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);

const COUNTS: (keyof RecapCounts)[] = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'];
const plain = makeChalk(false);

/** The class a result is drawn with: its status, or `ignored` for a failure the task allowed. */
const kind = (r: HostRun) => (r.status === 'failed' && r.ignored ? 'ignored' : r.status);

/** A round step for the time axis: about eight ticks, at 1, 2 or 5 times a power of ten. */
export function tickStep(totalMs: number): number {
  const raw = Math.max(totalMs / 8, 1);
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
}

function timeline(rec: RunRecord, totalMs: number): string {
  const pct = (t: number) => `${((100 * t) / totalMs).toFixed(3)}%`;
  const step = tickStep(totalMs);
  const ticks: string[] = [];
  for (let t = 0; t <= totalMs; t += step) ticks.push(`<span style="left:${pct(t)}">${esc(ms(t))}</span>`);
  const rows = rec.hosts.map((host) => {
    const runs = rec.tasks.flatMap((t) => t.results.filter((r) => r.host === host).map((r) => ({ t, r })));
    const bars = runs.map(({ t, r }) => {
      const via = r.delegatedTo ? ` -> ${r.delegatedTo}` : '';
      const what = r.ignored ? 'failed (ignored)' : r.status;
      const tip = `${t.handler ? 'HANDLER' : 'TASK'} ${t.task}\n${host}${via}: ${what} in ${ms(r.durationMs)}${r.msg ? `\n${r.msg}` : ''}`;
      return `<div class="bar ${kind(r)}" data-task="${esc(t.id)}" style="left:${pct(r.startMs)};width:${pct(r.durationMs)}" title="${esc(tip)}"></div>`;
    });
    const marks = runs
      .filter(({ r }) => (r.status === 'failed' && !r.ignored) || r.status === 'unreachable')
      .map(({ t, r }) => {
        const right = r.startMs > totalMs / 2;
        const at = right ? r.startMs + r.durationMs : r.startMs;
        return `<span class="mark${right ? ' right' : ''}" style="left:${pct(at)}">&#10006; ${esc(t.task)}: ${esc((r.msg ?? r.status).split('\n')[0]!)}</span>`;
      });
    return `<div class="host">${esc(host)}</div><div class="lane" data-host="${esc(host)}">${bars.join('')}${marks.join('')}</div>`;
  });
  return `<div class="timeline">${rows.join('\n')}<div></div><div class="axis">${ticks.join('')}</div></div>`;
}

function failures(rec: RunRecord): string {
  const items = rec.tasks.flatMap((t) =>
    t.results
      .filter((r) => (r.status === 'failed' && !r.ignored) || r.status === 'unreachable')
      .map((r) => `<li><b>${esc(r.host)}</b> ${r.status} in <b>${esc(t.task)}</b>${r.location ? ` <code>${esc(r.location)}</code>` : ''}<pre>${esc(r.msg ?? r.status)}</pre></li>`),
  );
  return items.length ? `<h2>Failures</h2><ul class="failures">${items.join('')}</ul>` : '';
}

function recap(rec: RunRecord): string {
  if (!rec.recap) return '<h2>Recap</h2><p class="meta">The run ended before its recap.</p>';
  const head = `<tr><th>host</th>${COUNTS.map((k) => `<th>${k}</th>`).join('')}</tr>`;
  const rows = Object.entries(rec.recap.hosts).map(([host, c]) => {
    const cells = COUNTS.map((k) => {
      const hot = c[k] > 0 && k !== 'ok' ? ` hot ${k === 'unreachable' ? 'unreachable' : k === 'rescued' ? 'ignored' : k}` : '';
      return `<td class="n${hot}">${c[k]}</td>`;
    });
    return `<tr data-host="${esc(host)}"><td>${esc(host)}</td>${cells.join('')}</tr>`;
  });
  return `<h2>Recap</h2><table class="recap">${head}${rows.join('')}</table>`;
}

function diffLines(r: HostRun): string {
  if (!r.diff) return '';
  const lines = formatDiff(r.diff, plain).map((l) => {
    const cls = l.startsWith('@@') ? 'hunk' : /^\+(?!\+\+)/.test(l) ? 'add' : /^-(?!--)/.test(l) ? 'del' : l.startsWith('~') ? 'mod' : '';
    return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
  });
  return `<pre class="diff">${lines.join('\n')}</pre>`;
}

/** Every task as a folded section: each host's result, message and diff. */
function tasks(rec: RunRecord): string {
  const out: string[] = ['<h2>Tasks</h2>'];
  let play: string | undefined;
  for (const t of rec.tasks) {
    if (t.play !== play) {
      play = t.play;
      out.push(`<h3>PLAY ${esc(play)}</h3>`);
    }
    out.push(taskSection(t));
  }
  return out.join('\n');
}

function taskSection(t: TaskRun): string {
  const tally = new Map<string, number>();
  for (const r of t.results) tally.set(kind(r), (tally.get(kind(r)) ?? 0) + 1);
  const st = [...tally].map(([k, n]) => `${n} ${k}`).join(', ');
  const results = t.results.map((r) => {
    const via = r.delegatedTo ? ` -> ${esc(r.delegatedTo)}` : '';
    const msg = r.msg ? ` ${esc(r.msg)}` : '';
    return `<div class="result"><span class="badge ${kind(r)}">${r.ignored ? 'ignored' : r.status}</span> <b>${esc(r.host)}</b>${via} <span class="meta">${esc(ms(r.durationMs))}</span>${msg}${diffLines(r)}</div>`;
  });
  const diffs = t.results.filter((r) => r.diff).length;
  const flag = diffs ? ` <span class="has-diff">${diffs} diff${diffs > 1 ? 's' : ''}</span>` : '';
  return `<details${diffs ? ' data-diff=""' : ''}><summary>${t.handler ? 'HANDLER' : 'TASK'} <b>${esc(t.task)}</b>${flag} <span class="st">${esc(st)}${t.location ? ` · ${esc(t.location)}` : ''}</span></summary><div>${results.join('')}</div></details>`;
}

/** --plan / --apply: the plan's id, its digests, and every refusal with the reason (current and planned diff). */
function plans(rec: RunRecord): string {
  if (rec.plans.length === 0) return '';
  const one = (p: PlanEvent) => {
    const digests = Object.entries(p.digests).map(([k, v]) => `<tr><td>${esc(k)}</td><td><code>${esc(v)}</code></td></tr>`).join('');
    const refusals = p.refusals.map((r) => `<li><b>${esc(r.host)}</b> refused <b>${esc(r.task)}</b><pre>${esc(r.reason)}</pre></li>`).join('');
    return `<p class="meta">plan <b>${esc(p.action)}</b> · <code>${esc(p.file)}</code> · id <code>${esc(p.id)}</code>: ${esc(p.message)}</p><table class="recap">${digests}</table>${refusals ? `<ul class="failures">${refusals}</ul>` : ''}`;
  };
  return `<h2>Plan</h2>${rec.plans.map(one).join('')}`;
}

/** Where a resumed run started each host again, and the record this run left. */
function resumeSection(rec: RunRecord): string {
  const items: string[] = [];
  if (rec.resumed) {
    items.push(`<li>resumed run <b>${esc(rec.resumed.from)}</b>; another host was contacted only when a task delegated to it</li>`);
    if (rec.resumed.changed) items.push(`<li>changed since, resumed all the same: ${esc(rec.resumed.changed)}</li>`);
    for (const h of rec.resumed.hosts) items.push(`<li class="resumed">${esc(resumedAt(h))}</li>`);
  }
  if (rec.recordedAs && rec.recordedAs.unfinished.length > 0) {
    items.push(`<li>recorded as <b>${esc(rec.recordedAs.id)}</b> (${esc(rec.recordedAs.file)}); unfinished: ${esc(rec.recordedAs.unfinished.join(', '))} (<code>--resume</code> runs them again)</li>`);
  }
  return items.length ? `<h2>Resume</h2><ul class="notes">${items.join('')}</ul>` : '';
}

/** The whole report: one page, its style inline, no script, nothing fetched (the CSP forbids it). */
export function renderReport(rec: RunRecord): string {
  const ends = rec.tasks.flatMap((t) => t.results.map((r) => r.startMs + r.durationMs));
  const totalMs = Math.max(rec.recap?.durationMs ?? 0, ...ends, 1);
  const title = `rigger: ${rec.playbook || 'run'}`;
  const notes = rec.notes.length ? `<h2>Notes</h2><ul class="notes">${rec.notes.map((n) => `<li>${n.kind}: ${esc(n.message)}</li>`).join('')}</ul>` : '';
  const legend = ['ok', 'changed', 'failed', 'ignored', 'skipped', 'unreachable'].map((k) => `<span class="${k}">${k}</span>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${REPORT_CSS}</style></head>
<body>
<h1>${esc(title)}${rec.check ? ' (check mode)' : ''}</h1>
<p class="meta">started <b>${esc(rec.startedAt.toISOString().replace('T', ' ').slice(0, 19))} UTC</b> · took <b>${esc(ms(totalMs))}</b> · ${rec.hosts.length} hosts · ${rec.tasks.length} tasks · inventory ${esc(rec.inventory.join(', ') || '-')}</p>
<h2>Timeline</h2>
<div class="legend">${legend}</div>
${timeline(rec, totalMs)}
${plans(rec)}
${failures(rec)}
${recap(rec)}
${resumeSection(rec)}
${notes}
${tasks(rec)}
</body></html>
`;
}
