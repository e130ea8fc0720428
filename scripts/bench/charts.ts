// The benchmark's figures as SVG line charts in docs/benchmarks.md: cost
// against hosts (T = 20) and against tasks (H = 4), cold and no-op, one line
// per tool. bench.ts redraws them after a run; on their own,
//   npx tsx scripts/bench/charts.ts
// redraws them from the tables already in docs/benchmarks.md.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIOS, TOOLS, type Scenario, type Tool } from './tools.ts';

/** A measured figure as bench.ts records it (only what a chart needs). */
export interface ChartFigure {
  tool: Tool;
  scenario: Scenario;
  hosts: number;
  tasks: number;
  median?: number;
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

export interface LineChart {
  title: string;
  xLabel: string;
  xs: number[];
  /** Hosts double and quadruple: a log axis spaces 1, 4, 16, 64 evenly. */
  xLog: boolean;
  series: Series[];
}

const COLORS: Record<Tool, string> = { floor: '#6e7781', rigger: '#1f6feb', ansible: '#cf222e', mitogen: '#8250df' };
const W = 560;
const H = 340;
const M = { left: 56, right: 140, top: 36, bottom: 44 };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ESCAPES[c]!);
const num = (n: number) => String(Math.round(n * 10) / 10);

/** Ticks at 1, 2 and 5 times each power of ten from lo to hi: seconds span 0.6 to 200 here. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let p = Math.floor(Math.log10(lo)); p <= Math.ceil(Math.log10(hi)); p++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** p;
      if (t >= lo / 1.0001 && t <= hi * 1.0001) ticks.push(Number(t.toPrecision(3)));
    }
  }
  return ticks;
}

/** One chart as a standalone SVG document: a log seconds axis, a line and dots per series, a legend. */
export function lineChartSvg(c: LineChart): string {
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]));
  const steps = logTicks(Math.min(...ys) / 10, Math.max(...ys) * 10);
  const lo = steps.filter((t) => t <= Math.min(...ys)).at(-1)!;
  const hi = steps.find((t) => t >= Math.max(...ys))!;
  const fx = (v: number) => (c.xLog ? Math.log(v) : v);
  const [x0, x1] = [fx(Math.min(...c.xs)), fx(Math.max(...c.xs))];
  const px = (v: number) => M.left + ((fx(v) - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (v: number) => H - M.bottom - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="20" font-size="13" font-weight="bold">${esc(c.title)}</text>`,
  ];
  for (const t of logTicks(lo, hi)) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${num(py(t))}" y2="${num(py(t))}" stroke="#d0d7de" stroke-width="${[1, 10, 100, 1000].includes(t) ? 1 : 0.5}"/>`);
    out.push(`<text x="${M.left - 6}" y="${num(py(t) + 4)}" text-anchor="end" fill="#57606a">${t}</text>`);
  }
  for (const x of c.xs) out.push(`<text x="${num(px(x))}" y="${H - M.bottom + 16}" text-anchor="middle" fill="#57606a">${x}</text>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle" fill="#57606a">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#57606a">seconds per run (log)</text>`);
  c.series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${num(px(x))},${num(py(y))}`);
    out.push(`<g data-series="${esc(s.name)}" stroke="${s.color}" fill="${s.color}">`);
    if (pts.length > 1) out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke-width="2"/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${num(px(x))}" cy="${num(py(y))}" r="3"><title>${esc(`${s.name}: ${y} s at ${x}`)}</title></circle>`);
    out.push('</g>');
    const ly = M.top + 8 + i * 18;
    out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 30}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/><text x="${W - M.right + 36}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The bench's tables read back: `| cold | 4 | 20 | 0.74 (0.66-0.82) | ...`, the first figure of each kind wins. */
export function figuresFromMarkdown(md: string): ChartFigure[] {
  const out: ChartFigure[] = [];
  const head = /^\| scenario \| H \| T \| floor s \| rigger s \| ansible s \| mitogen s \|/;
  let inTable = false;
  for (const line of md.split('\n')) {
    if (head.test(line)) inTable = true;
    else if (!line.startsWith('|')) inTable = false;
    if (!inTable) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const [scenario, hosts, tasks] = cells;
    if (!SCENARIOS.some((s) => s === scenario)) continue;
    TOOLS.forEach((tool, i) => {
      const median = /^(\d+(?:\.\d+)?) \(/.exec(cells[3 + i] ?? '')?.[1];
      if (median !== undefined) out.push({ tool, scenario: scenario as Scenario, hosts: Number(hosts), tasks: Number(tasks), median: Number(median) });
    });
  }
  return out;
}

/** The four charts: cost against hosts at T = 20 and against tasks at H = 4, each for cold and no-op runs. */
export function benchCharts(figures: ChartFigure[]): { file: string; alt: string; svg: string }[] {
  const first = (f: (x: ChartFigure) => boolean) => figures.find((x) => x.median !== undefined && f(x))?.median;
  const charts = [];
  for (const axis of ['hosts', 'tasks'] as const) {
    for (const scenario of SCENARIOS) {
      const label = scenario === 'cold' ? 'cold converge' : 'no-op re-run';
      const fixed = axis === 'hosts' ? { tasks: 20 } : { hosts: 4 };
      const xs = [...new Set(figures.filter((f) => f.scenario === scenario && Object.entries(fixed).every(([k, v]) => f[k as 'hosts' | 'tasks'] === v)).map((f) => f[axis]))].sort((a, b) => a - b);
      const series = TOOLS.map((tool) => ({
        name: tool === 'ansible' ? 'tuned Ansible' : tool === 'mitogen' ? 'Ansible + Mitogen' : tool,
        color: COLORS[tool],
        points: xs.flatMap((x): [number, number][] => {
          const y = first((f) => f.tool === tool && f.scenario === scenario && f[axis] === x && Object.entries(fixed).every(([k, v]) => f[k as 'hosts' | 'tasks'] === v));
          return y === undefined ? [] : [[x, y]];
        }),
      })).filter((s) => s.points.length > 0);
      if (xs.length < 2 || series.length === 0) continue;
      const title = axis === 'hosts' ? `${label}: cost against hosts (T = 20)` : `${label}: cost against tasks (H = 4)`;
      const svg = lineChartSvg({ title, xLabel: axis === 'hosts' ? 'hosts (H)' : 'tasks (T)', xs, xLog: axis === 'hosts', series });
      charts.push({ file: `bench-${axis}-${scenario}.svg`, alt: title, svg });
    }
  }
  return charts;
}

export const CHARTS_BEGIN = '<!-- charts: drawn by scripts/bench/charts.ts; edits between these lines are replaced -->';
export const CHARTS_END = '<!-- end of charts -->';

/**
 * Writes the charts as SVG files beside the page (docs/benchmarks/) and
 * their block into the page, in place of the previous one (or after its
 * first heading). `source` says which figures they were drawn from.
 */
export function writeCharts(doc: string, figures: ChartFigure[], source: string): string[] {
  const dir = path.join(path.dirname(doc), 'benchmarks');
  mkdirSync(dir, { recursive: true });
  const charts = benchCharts(figures);
  for (const c of charts) writeFileSync(path.join(dir, c.file), c.svg);
  const block = [CHARTS_BEGIN, '', `Medians in seconds on a log scale; ${source}`, '', ...charts.map((c) => `![${c.alt}](benchmarks/${c.file})`), '', CHARTS_END].join('\n');
  const md = readFileSync(doc, 'utf8');
  const start = md.indexOf(CHARTS_BEGIN);
  const end = md.indexOf(CHARTS_END);
  const next =
    start >= 0 && end > start
      ? md.slice(0, start) + block + md.slice(end + CHARTS_END.length)
      : /^## Results\n/m.test(md)
        ? md.replace(/^(## Results\n)/m, `$1\n${block}\n`)
        : `${md.trimEnd()}\n\n${block}\n`;
  writeFileSync(doc, next);
  return charts.map((c) => path.join(dir, c.file));
}

export const BENCH_DOC = 'docs/benchmarks.md';
const TABLES = 'the tables on this page (the first figure of each tool, scenario, H and T)';

/** After a bench run: its figures first, then the page's for what it did not measure. */
export function redrawAfterRun(run: ChartFigure[], command: string): string[] {
  const recorded = figuresFromMarkdown(readFileSync(BENCH_DOC, 'utf8'));
  return writeCharts(BENCH_DOC, [...run, ...recorded], `drawn from the run \`${command}\` of ${new Date().toISOString().slice(0, 10)} and, for what it did not measure, from ${TABLES}.`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = writeCharts(BENCH_DOC, figuresFromMarkdown(readFileSync(BENCH_DOC, 'utf8')), `drawn from ${TABLES}.`);
  process.stdout.write(`${files.join('\n')}\n`);
}
