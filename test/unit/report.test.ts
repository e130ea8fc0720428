import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EventBus, emptyCounts, type RunEvent } from '../../lib/model/events.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { tickStep } from '../../lib/ui/report/html.ts';
import { ReportRenderer } from '../../lib/ui/report/renderer.ts';
import { scratchDir } from '../helpers/run.ts';

// The --report page from a scripted run: events go through the real bus (which
// redacts) into the real renderer, on a clock the test moves by hand.
const MARKER = `report-marker-${process.pid}-secret`;

async function scriptedPage(): Promise<string> {
  const secret = new Secret(MARKER);
  let clock = 1000;
  const file = path.join(scratchDir(), 'not-yet', 'run.html');
  const renderer = new ReportRenderer(file, () => clock);
  const bus = new EventBus();
  bus.on((e) => renderer.handle(e));
  const at = (t: number, e: RunEvent) => {
    clock = 1000 + t;
    bus.emit(e);
  };
  at(0, { type: 'run-start', playbook: 'playbooks/site.ts', check: false, diff: false, inventory: ['inventory/lab.yml'] });
  at(0, { type: 'play-start', play: 'base', hosts: ['web1', 'db1'] });
  at(0, { type: 'task-start', play: 'base', task: 'packages <b>', id: 't1', hosts: ['web1', 'db1'], handler: false, location: 'roles/base/index.ts:3:5' });
  at(400, { type: 'task-host', task: 'packages <b>', id: 't1', host: 'web1', status: 'changed', durationMs: 400, diff: { kind: 'text', path: '/etc/app.conf', before: 'a=1\n', after: `a=2\npassword=${secret.reveal()}\n` } });
  at(500, { type: 'task-host', task: 'packages <b>', id: 't1', host: 'db1', status: 'ok', durationMs: 500 });
  at(500, { type: 'task-start', play: 'base', task: 'database up', id: 't2', hosts: ['web1', 'db1'], handler: false });
  at(500, { type: 'task-host', task: 'database up', id: 't2', host: 'web1', status: 'skipped', durationMs: 0, msg: 'not in db_nodes' });
  at(1000, { type: 'task-host', task: 'database up', id: 't2', host: 'db1', status: 'failed', durationMs: 500, msg: `connection refused by ${MARKER}\nsecond line`, location: 'roles/db/index.ts:9:7' });
  at(1000, { type: 'recap', hosts: { web1: { ...emptyCounts(), changed: 1, skipped: 1 }, db1: { ...emptyCounts(), ok: 1, failed: 1 } }, durationMs: 1000 });
  await renderer.flush();
  return readFileSync(file, 'utf8');
}

const lanes = (html: string) => [...html.matchAll(/<div class="lane" data-host="([^"]+)">(.*?)<\/div>(?=\n?<div class="host">|<div><\/div>)/gs)].map((m) => ({ host: m[1]!, body: m[2]! }));
const bars = (lane: string) => [...lane.matchAll(/<div class="bar (\w+)" data-task="(\w+)" style="left:([\d.]+)%;width:([\d.]+)%" title="([^"]*)">/g)].map((m) => ({ status: m[1], task: m[2], left: Number(m[3]), width: Number(m[4]), title: m[5]! }));

test('one timeline lane per host, one bar per task run, placed and sized on the run clock', async () => {
  const html = await scriptedPage();
  const rows = lanes(html);
  assert.deepEqual(rows.map((r) => r.host), ['web1', 'db1']);
  assert.deepEqual(bars(rows[0]!.body).map((b) => [b.task, b.status, b.left, b.width]), [
    ['t1', 'changed', 0, 40],
    ['t2', 'skipped', 50, 0],
  ]);
  assert.deepEqual(bars(rows[1]!.body).map((b) => [b.task, b.status, b.left, b.width]), [
    ['t1', 'ok', 0, 50],
    ['t2', 'failed', 50, 50],
  ]);
  // The duration on hover: the bar's title names the task, the host, the status and the time.
  assert.match(bars(rows[0]!.body)[0]!.title, /^TASK packages &lt;b&gt;\nweb1: changed in 400 ms$/);
});

test('a failure is marked on its bar and listed with its message and where the task is defined', async () => {
  const html = await scriptedPage();
  assert.match(lanes(html)[1]!.body, /<span class="mark" style="left:50\.000%">&#10006; database up: connection refused by \*\*\*<\/span>/);
  assert.match(html, /<li><b>db1<\/b> failed in <b>database up<\/b> <code>roles\/db\/index\.ts:9:7<\/code><pre>connection refused by \*\*\*\nsecond line<\/pre><\/li>/);
});

test('the recap table, and each change\'s diff folded under its task', async () => {
  const html = await scriptedPage();
  assert.match(html, /<tr data-host="web1"><td>web1<\/td><td class="n">0<\/td><td class="n hot changed">1<\/td>/);
  assert.match(html, /<tr data-host="db1"><td>db1<\/td><td class="n">1<\/td><td class="n">0<\/td><td class="n">0<\/td><td class="n hot failed">1<\/td>/);
  const folded = /<details data-diff=""><summary>TASK <b>packages &lt;b&gt;<\/b> <span class="has-diff">1 diff<\/span>.*?<\/details>/s.exec(html)?.[0];
  assert.ok(folded, 'the task with a change is a closed <details> flagged with its diff');
  assert.match(folded, /<span class="del">-a=1<\/span>\n<span class="add">\+a=2<\/span>\n<span class="add">\+password=\*\*\*<\/span>/);
  assert.doesNotMatch(html, /<details[^>]* open/, 'every task is folded');
});

test('the page stands alone: no script, nothing to fetch, every secret redacted, user text escaped', async () => {
  const html = await scriptedPage();
  assert.ok(!html.includes(MARKER), 'the marker secret is not in the page');
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|\ssrc=|url\(/i);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
  assert.ok(!html.includes('packages <b>'), 'a task name is text, not markup');
});

test('the time axis steps by 1, 2 or 5 times a power of ten, about eight ticks', () => {
  assert.equal(tickStep(1000), 200);
  assert.equal(tickStep(81_300), 20_000);
  assert.equal(tickStep(3_000), 500);
  assert.equal(tickStep(0), 1);
});
