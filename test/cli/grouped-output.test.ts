import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../../lib/model/events.ts';
import { COUNTS_ABOVE_HOSTS, summarizeTask, type HostResult } from '../../lib/ui/task-summary.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/run.ts';
import { inTerminal } from '../helpers/tmux.ts';

// What a terminal keeps of a task over many hosts (issue #28, "output that scales"): the real
// playbook, over local hosts, drawn by the real renderer in a tmux pane. What each host did is
// read from the same playbook's --json events, so the pane is checked against the run, not
// against the renderer's own code.
const PLAYBOOK = 'test/fixtures/playbooks/grouped-output.ts';

/**
 * N local hosts: the even ones in `web` (db on every fourth), the odd ones in `other`; every
 * third host's outcome is changed, and two hosts (h03, and h05 with h11 above 10 hosts) fail.
 */
function inventory(n: number): string {
  const name = (i: number) => `h${String(i).padStart(2, '0')}`;
  const failing = n > 10 ? [5, 11] : [3];
  const outcome = (i: number) => (failing.includes(i) ? 'failed' : i % 3 === 0 ? 'changed' : 'ok');
  const web: string[] = [];
  const other: string[] = [];
  for (let i = 1; i <= n; i++) {
    if (i % 2 === 0) web.push(`        ${name(i)}: { db: ${i % 4 === 0}, outcome: ${outcome(i)} }`);
    else other.push(`        ${name(i)}: { outcome: ${outcome(i)} }`);
  }
  const file = path.join(scratchDir(), 'hosts.yml');
  writeFileSync(file, ['all:', '  vars:', '    ansible_connection: local', '  children:', '    web:', '      hosts:', ...web, '    other:', '      hosts:', ...other, ''].join('\n'));
  return file;
}

/** The run's results per task name, in the play's host order (the order a task lists its hosts in). */
async function resultsOf(inv: string): Promise<Map<string, HostResult[]>> {
  const r = await runCli([PLAYBOOK, '-i', inv, '--json']);
  assert.equal(r.code, 2, `two hosts fail the run:\n${r.stderr}`);
  const byTask = new Map<string, HostResult[]>();
  let order: string[] = [];
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const e = JSON.parse(line) as RunEvent;
    if (e.type === 'play-start') order = e.hosts;
    if (e.type === 'task-host') byTask.set(e.task, [...(byTask.get(e.task) ?? []), e]);
  }
  for (const results of byTask.values()) results.sort((a, b) => order.indexOf(a.host) - order.indexOf(b.host));
  assert.deepEqual([...byTask.keys()], ['web with db', 'outcome']);
  return byTask;
}

/** The pane's lines under each `TASK name` line, up to the next task or the recap. */
function paneTasks(pane: string): Map<string, string[]> {
  const tasks = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of pane.split('\n')) {
    const head = /^\S+ TASK (.+)$/.exec(line);
    if (head) tasks.set(head[1]!, (current = []));
    else if (/^(PLAY|PLAY RECAP)\b/.test(line)) current = undefined;
    else if (current && line.trim() !== '') current.push(line);
  }
  return tasks;
}

const hostsIn = (line: string) => line.match(/\bh\d\d\b/g) ?? [];

/** Distinct skip reasons of a task, each with its hosts in the run's order. */
function skipsByReason(results: HostResult[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of results.filter((x) => x.status === 'skipped')) out.set(r.msg!, [...(out.get(r.msg!) ?? []), r.host]);
  return out;
}

function draw(inv: string, flags: string[] = []): Map<string, string[]> {
  const pane = inTerminal(`node_modules/.bin/tsx ${PLAYBOOK} -i ${inv} ${flags.join(' ')}`, { columns: 120, env: { NO_COLOR: '', TERM: 'xterm-256color' } });
  assert.match(pane, /^PLAY RECAP/m, `the run ended:\n${pane}`);
  return paneTasks(pane);
}

/** Every skip reason of the run is one `↓ skipped on HOSTS: REASON` line naming exactly its hosts; skipped hosts are on no other line. */
function assertSkipsGrouped(lines: string[], results: HostResult[], task: string): void {
  const skipLines = lines.filter((l) => l.trimStart().startsWith('↓'));
  const reasons = skipsByReason(results);
  assert.ok(reasons.size >= 1, `${task}: the run skipped hosts`);
  assert.equal(skipLines.length, reasons.size, `${task}: one line per reason:\n${lines.join('\n')}`);
  for (const [reason, hosts] of reasons) {
    const line = skipLines.find((l) => l.endsWith(`: ${reason}`));
    assert.ok(line, `${task}: a line for "${reason}":\n${skipLines.join('\n')}`);
    assert.match(line, /^ {2}↓ skipped on /);
    assert.deepEqual(hostsIn(line), hosts, `${task}: "${reason}" names the hosts skipped for it`);
  }
  const skipped = new Set([...reasons.values()].flat());
  for (const l of lines.filter((x) => !skipLines.includes(x))) {
    for (const h of hostsIn(l)) assert.ok(!skipped.has(h), `${task}: skipped host ${h} also on: ${l}`);
  }
}

test('in a terminal, a task\'s skipped hosts are one line per reason naming them; the hosts that ran keep a line each', async () => {
  const inv = inventory(8);
  const results = await resultsOf(inv);
  const tasks = draw(inv);
  const first = tasks.get('web with db')!;
  assert.equal(skipsByReason(results.get('web with db')!).size, 2, 'the task skipped for two reasons');
  assertSkipsGrouped(first, results.get('web with db')!, 'web with db');
  for (const r of results.get('web with db')!.filter((x) => x.status !== 'skipped')) {
    assert.equal(first.filter((l) => new RegExp(`^ {2}✔ ${r.host} ${r.status} \\d+ ms`).test(l)).length, 1, `${r.host} has its own line`);
  }
  const second = tasks.get('outcome')!;
  for (const r of results.get('outcome')!) {
    assert.equal(second.filter((l) => new RegExp(`^ {2}. ${r.host} ${r.status} \\d+ ms`).test(l)).length, 1, `${r.host}: one line with its status ${r.status}`);
  }
});

test(`above ${COUNTS_ABOVE_HOSTS} hosts, a task's finished hosts are one line of counts naming the changed and failed ones; the failure's message is shown once`, async () => {
  const inv = inventory(20);
  const results = await resultsOf(inv);
  const tasks = draw(inv);
  for (const [task, lines] of tasks) {
    const ran = results.get(task)!.filter((r) => r.status !== 'skipped');
    const named = (status: string) => ran.filter((r) => r.status === status).map((r) => r.host);
    const counts = lines.filter((l) => /^ {2}✔ (\d+ ok|\d+ changed)/.test(l));
    assert.equal(counts.length, 1, `${task}: one line of counts:\n${lines.join('\n')}`);
    const line = counts[0]!;
    const ok = named('ok').length;
    if (ok) assert.match(line, new RegExp(`^ {2}✔ ${ok} ok\\b`), `${task}: ${ok} ok`);
    else assert.doesNotMatch(line, / ok\b/);
    for (const status of ['changed', 'failed']) {
      const hosts = named(status);
      if (hosts.length) assert.ok(line.includes(`${hosts.length} ${status} (${hosts.join(', ')})`), `${task}: ${status} hosts named: ${line}`);
      else assert.ok(!line.includes(status), line);
    }
    // No host that ran has a line of its own: only the counts (and the failure's line) name it.
    for (const r of ran) assert.ok(!lines.some((l) => new RegExp(`^ {2}. ${r.host} `).test(l)), `${task}: ${r.host} has no line of its own`);
    if (task === 'web with db') assertSkipsGrouped(lines, results.get(task)!, task);
  }
  const failedLines = tasks.get('outcome')!.filter((l) => l.startsWith('  ✖'));
  assert.deepEqual(failedLines, ['  ✖ failed on h05, h11'], 'the two failures share one message, shown once');
  assert.equal(tasks.get('outcome')!.filter((l) => l.includes('exited 3')).length, 1);
});

test('-v keeps one line per host per task, skipped hosts too', async () => {
  const inv = inventory(20);
  const results = await resultsOf(inv);
  const tasks = draw(inv, ['-v']);
  for (const [task, lines] of tasks) {
    for (const r of results.get(task)!) {
      const own = lines.filter((l) => new RegExp(`^ {2}. ${r.host} ${r.status}\\b`).test(l));
      assert.equal(own.length, 1, `${task}: ${r.host} has one line:\n${lines.join('\n')}`);
    }
  }
});

test('without a terminal, output stays one line per host, as ansible-playbook prints it', async () => {
  const inv = inventory(20);
  const r = await runCli([PLAYBOOK, '-i', inv]);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stdout.split('\n');
  for (let i = 1; i <= 20; i++) {
    const host = `h${String(i).padStart(2, '0')}`;
    assert.equal(lines.filter((l) => new RegExp(`^\\w+: \\[${host}\\] web with db `).test(l)).length, 1, `${host}: a line for the first task`);
  }
});

test('summarizeTask over a real run\'s events: the same grouping the terminal draws', async () => {
  const results = await resultsOf(inventory(20));
  const skipTask = results.get('web with db')!;
  const lines = summarizeTask(skipTask, false);
  const expected = [...skipsByReason(skipTask)].map(([reason, hosts]) => ({ kind: 'skipped', reason, hosts }));
  assert.deepEqual(lines.filter((l) => l.kind === 'skipped'), expected);
  const counts = lines.find((l) => l.kind === 'counts');
  assert.ok(counts && counts.kind === 'counts');
  assert.equal(counts.ok + counts.changed.length + counts.failed.length, skipTask.filter((r) => r.status !== 'skipped').length);
  assert.deepEqual(summarizeTask(skipTask, true).map((l) => (l.kind === 'host' ? l.result.host : l.kind)), skipTask.map((r) => r.host), '-v: a line per host');
});
