import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sh } from '../../lib/shell/command.ts';
import { HOST_OF } from '../../scripts/lab/rehearsal.ts';
import { onNode } from '../helpers/node.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';

// Issue 32, acceptance 5, on the rehearsal of the real cluster: a site.ts
// run in which one host fails through a planted bad state, then --resume
// once the state is fixed: only that host runs, from the task that failed,
// with the results its earlier tasks registered restored; the other three
// nodes' sshd accepts no connection while the resume runs; the recap covers
// the resumed host only. The planted state is in the last play (a file
// where the WAL archiver's wal/ goes, on the archive node, the archiver
// stopped): a failure in an earlier play would resume through the swarm
// role, whose node labels are set on the first manager (delegated, as
// docs/plans-and-resume.md says: a delegated task contacts its host).
// test/ssh/resume.test.ts proves the same on four sshd hosts with a 12th
// task that reads task 1's result.

const FAILING = 'ai.vibe.local';
const TASK = 'wal archiver';
const ARCHIVER = 'rigger-wal-archiver';
/** The archive's directory on the archive node, read from the running archiver's mount before the test stops it. */
let archiveDir = '';
let inv: string;

const events = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
/**
 * sshd's accepted logins on a node between two times of the node's clock (the containers share the host's),
 * to the microsecond: this query's own login comes right after `until` and must not count.
 */
const accepted = async (host: string, since: number, until: number) => {
  const r = await onNode(inv, HOST_OF[host]!, sh`journalctl --no-pager -q -o short-unix --since ${`@${Math.floor(since)}`} _COMM=sshd | grep 'Accepted publickey' || true`);
  return r.stdout
    .split('\n')
    .map((line) => Number.parseFloat(line))
    .filter((t) => t >= since && t <= until).length;
};

before(async () => {
  inv = await convergedRehearsal();
});

let converged = false;

after(async () => {
  if (converged || !inv || !archiveDir) return;
  // Leave the rehearsal converged when the test stopped half-way: wal/ a directory again, the node's plays run.
  await onNode(inv, HOST_OF[FAILING]!, sh`cd ${archiveDir} && if [ -f wal ] && [ -d wal.kept ]; then rm wal && mv wal.kept wal; fi; true`);
  await onRehearsal('playbooks/site.ts', ['--limit', FAILING], 30 * 60_000);
});

test('site.ts fails on one node through a planted bad state (a file where the WAL archiver writes wal/); --resume runs only that node from the failed task, contacting no other node', async () => {
  const mount = await onNode(inv, HOST_OF[FAILING]!, sh`docker inspect -f ${'{{range .Mounts}}{{.Source}}{{end}}'} ${ARCHIVER}`);
  assert.equal(mount.code, 0, `the converged rehearsal runs the archiver on ${FAILING}`);
  archiveDir = mount.stdout.trim();
  assert.match(archiveDir, /^\//);
  // The archiver stopped and a file where its wal/ goes: the archiver task must make wal/ and fails.
  await onNode(inv, HOST_OF[FAILING]!, sh`docker rm -f ${ARCHIVER} >/dev/null && cd ${archiveDir} && mv wal wal.kept && touch wal`);
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

  await onNode(inv, HOST_OF[FAILING]!, sh`cd ${archiveDir} && rm wal && mv wal.kept wal`);
  const since = Date.now() / 1000;
  const resumed = await onRehearsal('playbooks/site.ts', ['--resume', '--json'], 30 * 60_000);
  const until = Date.now() / 1000;
  assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout.slice(-4000));
  converged = true;
  const ev = events(resumed.stdout);
  const start = ev.find((e) => e.type === 'resume')!;
  assert.equal(start.from, recorded.id);
  assert.deepEqual(start.hosts.map((h: any) => [h.host, h.playName, h.task?.name]), [[FAILING, 'pitr', TASK]]);
  const ran = ev.filter((e) => e.type === 'task-host');
  assert.deepEqual([...new Set(ran.map((e) => e.host))], [FAILING], 'only the failed node runs');
  assert.equal(ran.find((e) => e.task === TASK)?.status, 'changed', 'the failed task runs again and starts the archiver');
  // Every play before the failed one was finished there: none starts again, and no task before it in its play runs.
  assert.deepEqual(ev.filter((x) => x.type === 'play-start').map((x) => x.play), ['pitr'], 'the plays before it did not run again');
  const pitrTasks = ran.map((e) => e.task);
  assert.equal(pitrTasks[0], TASK, `the resumed node starts at the failed task: ${pitrTasks.join(', ')}`);
  for (const e of ev.filter((x) => x.type === 'play-start')) assert.ok(e.hosts.every((h: string) => h === FAILING), `play ${e.play} ran on ${e.hosts.join(', ')}`);
  const recap = ev.at(-1)!;
  assert.deepEqual(Object.keys(recap.hosts), [FAILING], 'the recap covers the resumed node');
  for (const host of Object.keys(HOST_OF).filter((h) => h !== FAILING)) assert.equal(await accepted(host, since, until), 0, `${host} was not contacted`);
  assert.ok((await accepted(FAILING, since, until)) > 0, 'the journal counts logins (else the zeros above prove nothing)');
  const running = await onNode(inv, HOST_OF[FAILING]!, sh`docker inspect -f ${'{{.State.Running}}'} ${ARCHIVER} && test -d ${`${archiveDir}/wal`}`);
  assert.equal(running.stdout.trim(), 'true', 'the archiver streams into wal/ again');
  assert.equal(running.code, 0);
});
