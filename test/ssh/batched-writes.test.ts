// Batched changes (run-ahead.ts) over a real sshd: five file writes go to the
// host in one round trip after the read. A failure stops the ones after it
// exactly as the lockstep run (runAhead: false) does, and an interrupted
// batch leaves no partial file and no temp file behind.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { definePlay, ops } from '../../lib/index.ts';
import { runPlays, type RunOutput } from '../helpers/run.ts';
import { descendants, sshInventory, startSshdWithOwnTmp, type TestSshd } from '../helpers/sshd.ts';

let sshd: TestSshd;
let work: string;
let remoteTmp: string;
before(async () => {
  // Its own TMPDIR, so the run-ahead guard's scratch dirs are counted apart from other runs.
  ({ sshd, work, remoteTmp } = await startSshdWithOwnTmp('rigger-batched-'));
});
after(async () => sshd.stop());

/** Five copies; the third's validate command decides whether it fails (or hangs, to be interrupted). */
function fiveWrites(dir: string, runAhead: boolean, validate: string) {
  return definePlay({
    name: 'five writes',
    hosts: 'all',
    runAhead,
    tasks: ({ task }) => [1, 2, 3, 4, 5].map((n) => task({ name: `write ${n}`, op: ops.copy({ path: `${dir}/f${n}`, content: `file ${n}\n`, ...(n === 3 ? { validate } : {}) }) })),
  });
}

/** What a run reported, with its directory's name taken out: statuses, messages and the recap. */
function report(o: RunOutput, dir: string) {
  const tasks = o.events.flatMap((e) => (e.type === 'task-host' ? [`${e.task}: ${e.status} ${(e.msg ?? '').replaceAll(dir, 'DIR')}`] : []));
  return { tasks, recap: { ...o.summary.counts.get('h')! } };
}

const files = (dir: string) => readdirSync(dir).sort();

test('five batched writes where the third fails: two applied, the third failed with its error, two not attempted, as in lockstep', async () => {
  const inventory = sshInventory([{ name: 'h', sshd }]);
  const dirs = { ahead: path.join(work, 'ahead'), lockstep: path.join(work, 'lockstep') };
  for (const d of Object.values(dirs)) mkdirSync(d);
  const ahead = await runPlays(inventory, [fiveWrites(dirs.ahead, true, 'grep -q wanted-line %s')]);
  const lockstep = await runPlays(inventory, [fiveWrites(dirs.lockstep, false, 'grep -q wanted-line %s')]);
  assert.deepEqual(report(ahead, dirs.ahead), report(lockstep, dirs.lockstep), 'the same statuses, messages and recap');
  const r = report(ahead, dirs.ahead);
  assert.deepEqual(r.tasks.slice(0, 2), ['write 1: changed create DIR/f1', 'write 2: changed create DIR/f2']);
  assert.match(r.tasks[2]!, /^write 3: failed .*validation failed: 'grep -q wanted-line %s'$/s);
  assert.equal(r.tasks.length, 3, 'writes 4 and 5 were not attempted');
  for (const d of Object.values(dirs)) {
    assert.deepEqual(files(d), ['f1', 'f2'], 'no third, fourth or fifth file, and no temp file');
    assert.equal(readFileSync(`${d}/f2`, 'utf8'), 'file 2\n');
  }
  assert.equal(ahead.runner.sessions.get('h')!.roundTrips, 2, 'batched: the read, then all the writes in one round trip');
  assert.equal(lockstep.runner.sessions.get('h')!.roundTrips, 4, 'lockstep: the read, then one round trip per write');
});

test('interrupting a batch of writes leaves whole files or none, no temp file and no scratch dir', async () => {
  const inventory = sshInventory([{ name: 'h', sshd }]);
  const dir = path.join(work, 'interrupted');
  mkdirSync(dir);
  const started = path.join(work, 'validating');
  let interrupt = () => {};
  // The third write's check hangs: the batch is interrupted while its temp file exists.
  const run = runPlays(inventory, [fiveWrites(dir, true, `sh -c 'touch "$1"; exec sleep 600' validate ${started} %s`)], { onRunner: (r) => (interrupt = () => r.interrupt()) });
  while (!existsSync(started)) await sleep(10);
  assert.ok(files(dir).some((f) => f.startsWith('.rigger.')), 'the third write\'s temp file exists while it is checked');
  interrupt();
  const o = await run;
  assert.equal(o.summary.interrupted, true);
  // The host side ends on its own (the wrapper's watchdog sends TERM, the traps clean up).
  const pid = Number(readFileSync(path.join(sshd.dir, 'sshd.pid'), 'utf8'));
  for (let i = 0; i < 1000 && descendants(pid).length > 0; i++) await sleep(20);
  assert.deepEqual(descendants(pid), [], 'nothing of the batch is left running');
  assert.deepEqual(files(dir), ['f1', 'f2'], 'the first two written whole, the rest not at all, no temp file');
  assert.equal(readFileSync(`${dir}/f1`, 'utf8'), 'file 1\n');
  assert.deepEqual(readdirSync(remoteTmp), [], 'no payload or guard scratch dir left in TMPDIR');
});
