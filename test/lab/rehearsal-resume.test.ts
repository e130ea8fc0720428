import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sh } from '../../lib/shell/command.ts';
import { HOST_OF } from '../../scripts/lab/rehearsal.ts';
import { onNode } from '../helpers/node.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';

// Issue 32, acceptance 5, on the rehearsal of the real cluster: a site.ts
// run in which one host fails through a planted bad state (a directory
// where the base role writes /etc/timezone, on the ai node), then
// --resume once the state is fixed: only that host runs, from the task
// that failed, with the results its earlier tasks registered restored; the
// other three nodes' sshd accepts no connection while the resume runs;
// the recap covers the resumed host only. test/ssh/resume.test.ts proves
// the same on four sshd hosts with a 12th task that reads task 1's result.

const FAILING = 'ai.vibe.local';
const TASK = 'time zone name';
let inv: string;

const events = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
/** sshd's accepted logins on a node between two times of the node's clock (the containers share the host's). */
const accepted = async (host: string, since: number, until: number) => {
  const r = await onNode(inv, HOST_OF[host]!, sh`journalctl --no-pager -q --since ${`@${since}`} --until ${`@${until}`} _COMM=sshd | grep -c 'Accepted publickey' || true`);
  return Number(r.stdout.trim());
};

before(async () => {
  inv = await convergedRehearsal();
});

let converged = false;

after(async () => {
  if (converged || !inv) return;
  // Leave the rehearsal converged when the test stopped half-way: /etc/timezone a file again, the node's plays run.
  await onNode(inv, HOST_OF[FAILING]!, sh`[ -d /etc/timezone ] && rmdir /etc/timezone; true`);
  await onRehearsal('playbooks/site.ts', ['--limit', FAILING], 30 * 60_000);
});

test('site.ts fails on one node through a planted directory; --resume runs only that node from the failed task, contacting no other node', async () => {
  await onNode(inv, HOST_OF[FAILING]!, sh`rm -f /etc/timezone && mkdir /etc/timezone`);
  const first = await onRehearsal('playbooks/site.ts', ['--json'], 30 * 60_000);
  assert.equal(first.code, 2, first.stderr);
  const firstEvents = events(first.stdout);
  const failed = firstEvents.filter((e) => e.type === 'task-host' && e.status === 'failed');
  assert.deepEqual(failed.map((e) => [e.host, e.task]), [[FAILING, TASK]], 'only the planted state fails');
  const recorded = firstEvents.at(-1)!.record;
  assert.deepEqual(recorded.unfinished, [FAILING]);
  const record = JSON.parse(readFileSync(recorded.file, 'utf8'));
  assert.equal(record.hosts[FAILING].stoppedAt.name, TASK);
  assert.ok(record.hosts[FAILING].results.some((r: any) => r.task.name === 'packages with upgrades' && r.value !== undefined), 'an earlier result is recorded');

  await onNode(inv, HOST_OF[FAILING]!, sh`rmdir /etc/timezone`);
  const since = Math.floor(Date.now() / 1000) - 1;
  const resumed = await onRehearsal('playbooks/site.ts', ['--resume', '--json'], 30 * 60_000);
  const until = Math.ceil(Date.now() / 1000) + 1;
  assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout.slice(-4000));
  converged = true;
  const ev = events(resumed.stdout);
  const start = ev.find((e) => e.type === 'resume')!;
  assert.equal(start.from, recorded.id);
  assert.deepEqual(start.hosts.map((h: any) => [h.host, h.playName, h.task?.name]), [[FAILING, 'base', TASK]]);
  const ran = ev.filter((e) => e.type === 'task-host');
  assert.deepEqual([...new Set(ran.map((e) => e.host))], [FAILING], 'only the failed node runs');
  assert.equal(ran.find((e) => e.task === TASK)?.status, 'changed', 'the failed task runs again and writes the file');
  const baseTasks = ran.filter((e) => ev.some((s) => s.type === 'task-start' && s.id === e.id && s.play === 'base')).map((e) => e.task);
  assert.ok(!baseTasks.includes('base packages') && !baseTasks.includes('time zone link'), `the tasks before it did not run again: ${baseTasks.join(', ')}`);
  for (const e of ev.filter((x) => x.type === 'play-start')) assert.ok(e.hosts.every((h: string) => h === FAILING), `play ${e.play} ran on ${e.hosts.join(', ')}`);
  const recap = ev.at(-1)!;
  assert.deepEqual(Object.keys(recap.hosts), [FAILING], 'the recap covers the resumed node');
  for (const host of Object.keys(HOST_OF).filter((h) => h !== FAILING)) assert.equal(await accepted(host, since, until), 0, `${host} was not contacted`);
  assert.ok((await accepted(FAILING, since, until)) > 0, 'the journal counts logins (else the zeros above prove nothing)');
  const tz = await onNode(inv, HOST_OF[FAILING]!, sh`test -f /etc/timezone && cat /etc/timezone`);
  assert.equal(tz.code, 0);
});
