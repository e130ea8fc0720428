import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchCharts, CHARTS_BEGIN, CHARTS_END, figuresFromMarkdown, lineChartSvg, logTicks, writeCharts, type ChartFigure } from '../../scripts/bench/charts.ts';
import { scratchDir } from '../helpers/run.ts';

// The benchmark's SVG charts: read back from the tables the bench writes,
// drawn as line charts, written into the page between their markers.
const TABLES = `## Results

| scenario | H | T | floor s | rigger s | ansible s | mitogen s | ansible / rigger | mitogen / rigger | rigger / floor |
|---|---|---|---|---|---|---|---|---|---|
| cold | 1 | 20 | 0.69 (0.66-0.74) | 1.16 (1.04-1.34) | 6.46 (6.14-6.91) | 3.23 (3.14-3.37) | 5.5x | 2.8x | 1.7x |
| noop | 4 | 20 | 0.76 (0.66-0.84) | 1.03 (1.00-1.15) | 13.65 (12.55-14.16) | 6.10 (5.52-6.48) | 13.3x | 5.9x | 1.3x |
| cold | 64 | 20 | 3.47 (2.35-3.76) | 16.93 (15.45-17.08) | 210.54 (199.02-229.61) | second invocation | 12.4x | - | 4.9x |

Later, a second invocation:

| scenario | H | T | floor s | rigger s | ansible s | mitogen s | ansible / rigger | mitogen / rigger | rigger / floor |
|---|---|---|---|---|---|---|---|---|---|
| cold | 64 | 20 | 2.78 (2.63-2.90) | 14.77 (13.13-17.28) | skipped (first invocation) | 61.39 (59.56-66.66) | - | 4.2x | 5.3x |

| when | rigger cold / no-op s |
|---|---|
| cold | 1.34 / 0.94 |
`;

test('figures are read back from the bench\'s tables: the first of each kind, words that are not figures left out', () => {
  const figs = figuresFromMarkdown(TABLES);
  const at = (tool: string, scenario: string, hosts: number) => figs.filter((f) => f.tool === tool && f.scenario === scenario && f.hosts === hosts).map((f) => f.median);
  assert.deepEqual(at('rigger', 'cold', 64), [16.93, 14.77], 'both tables, in page order');
  assert.deepEqual(at('mitogen', 'cold', 64), [61.39], '"second invocation" is not a figure');
  assert.deepEqual(at('ansible', 'noop', 4), [13.65]);
  assert.equal(figs.length, 4 * 3 - 1 + 3, 'the quick-run table of another shape is not read');
});

test('log ticks at 1, 2 and 5 times each power of ten', () => {
  assert.deepEqual(logTicks(0.6, 210), [1, 2, 5, 10, 20, 50, 100, 200]);
  assert.deepEqual(logTicks(0.05, 0.5), [0.05, 0.1, 0.2, 0.5]);
});

test('a line chart: one line and a dot per point for each series, hosts on a log axis, text escaped', () => {
  const svg = lineChartSvg({
    title: 'cost <hosts>',
    xLabel: 'hosts (H)',
    xs: [1, 4, 16, 64],
    xLog: true,
    series: [
      { name: 'rigger', color: '#1f6feb', points: [[1, 1], [4, 2], [16, 5], [64, 10]] },
      { name: 'floor', color: '#6e7781', points: [[64, 5]] },
    ],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="560" height="340"/);
  assert.ok(svg.includes('cost &lt;hosts&gt;') && !svg.includes('<hosts>'));
  // x: 1 at the left edge (56), 64 at the right (560 - 140); 4 and 16 evenly between on the log axis.
  // y: 1 s at the bottom (340 - 44), 10 s at the top (36): the axis runs from the lowest to the highest tick around the data.
  const line = /<g data-series="rigger"[^>]*>\n<polyline points="([^"]+)"/.exec(svg)?.[1];
  assert.equal(line, '56,296 177.3,217.7 298.7,114.3 420,36');
  assert.equal((svg.match(/<circle /g) ?? []).length, 5);
  assert.ok(!/<g data-series="floor"[^>]*>\n<polyline/.test(svg), 'a single point draws no line');
  assert.equal((svg.match(/<g /g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length, 'groups are closed');
  assert.match(svg, /<\/svg>\n$/);
});

test('the four charts: hosts at T = 20 and tasks at H = 4, cold and no-op; an axis with one point is left out', () => {
  const figs: ChartFigure[] = [];
  for (const [hosts, tasks] of [[1, 20], [4, 20], [16, 20], [4, 10], [4, 50]] as const) {
    for (const scenario of ['cold', 'noop'] as const) figs.push({ tool: 'rigger', scenario, hosts, tasks, median: hosts + tasks / 10 });
  }
  assert.deepEqual(benchCharts(figs).map((c) => c.file), ['bench-hosts-cold.svg', 'bench-hosts-noop.svg', 'bench-tasks-cold.svg', 'bench-tasks-noop.svg']);
  const tasksCold = benchCharts(figs).find((c) => c.file === 'bench-tasks-cold.svg')!;
  assert.equal((tasksCold.svg.match(/<circle /g) ?? []).length, 3, 'T = 10, 20, 50 at H = 4');
  assert.deepEqual(benchCharts(figs.filter((f) => f.hosts === 4)).map((c) => c.file), ['bench-tasks-cold.svg', 'bench-tasks-noop.svg']);
});

test('the charts go beside the page and their block into it, replaced in place on the next run', () => {
  const doc = path.join(scratchDir(), 'benchmarks.md');
  writeFileSync(doc, `# Benchmarks\n\n${TABLES}\n## After\n`);
  const figs = figuresFromMarkdown(TABLES);
  writeCharts(doc, figs, 'drawn from the tables.');
  const once = readFileSync(doc, 'utf8');
  // No-op runs were measured at one H only here: no chart for them.
  assert.deepEqual(readdirSync(path.join(path.dirname(doc), 'benchmarks')), ['bench-hosts-cold.svg']);
  assert.ok(once.startsWith(`# Benchmarks\n\n## Results\n\n${CHARTS_BEGIN}\n\nMedians in seconds on a log scale; drawn from the tables.\n\n![cold converge: cost against hosts (T = 20)](benchmarks/bench-hosts-cold.svg)\n`));
  writeCharts(doc, [{ tool: 'floor', scenario: 'cold', hosts: 1, tasks: 20, median: 0.5 }, ...figs], 'drawn from a new run.');
  const twice = readFileSync(doc, 'utf8');
  assert.equal(twice.split(CHARTS_BEGIN).length, 2, 'one block');
  assert.equal(twice.split(CHARTS_END).length, 2);
  assert.match(twice, /drawn from a new run\./);
  assert.ok(twice.endsWith(`${CHARTS_END}\n${TABLES.slice('## Results\n'.length)}\n## After\n`), 'the rest of the page is kept');
  assert.match(readFileSync(path.join(path.dirname(doc), 'benchmarks', 'bench-hosts-cold.svg'), 'utf8'), /floor: 0\.5 s at 1/, 'the new run\'s figure is drawn first');
});
