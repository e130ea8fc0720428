import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describeHolder, parseHeld, staleReason, takeDeployLock } from '../../lib/ops/docker/rollout/deploy-lock.ts';
import { LocalTransport } from '../../lib/transport/local.ts';
import { remoteOf } from '../helpers/remote.ts';

const holder = { user: 'alice', action: 'stack lab', at: '2026-11-26T10:00:00.000Z', host: 'ctl', pid: 4242 };

test("a held lock names its holder; an owner rigger did not write is shown as it is", () => {
  const held = parseHeld(`@@held 7\n${JSON.stringify(holder)}\n`);
  assert.equal(held.idleSeconds, 7);
  assert.equal(describeHolder(held), 'alice stack lab since 2026-11-26T10:00:00.000Z, pid 4242 on ctl');
  assert.equal(describeHolder(parseHeld('@@held 3\nalice deploy 2026-01-01T00:00:00Z\n')), 'alice deploy 2026-01-01T00:00:00Z');
});

test('a lock is stale when its run on this controller is gone, or its heartbeat stopped; a live holder keeps it', () => {
  const run = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
  const held = parseHeld(`@@held 5\n${JSON.stringify({ ...holder, run })}\n`);
  const ours = (r: string) => (r === run ? 4242 : undefined);
  assert.match(staleReason(held, { pidOfRun: ours, alive: () => false })!, /its process 4242 on ctl is gone/);
  assert.equal(staleReason(held, { pidOfRun: ours, alive: () => true }), undefined);
  assert.equal(staleReason(held, { pidOfRun: () => undefined, alive: () => false }), undefined, "another controller's run (same host name or not) cannot be seen from here: only its heartbeat counts");
  assert.equal(staleReason(parseHeld(`@@held 5\n${JSON.stringify(holder)}\n`), { pidOfRun: () => 4242, alive: () => false }), undefined, 'a holder without a run id (an older rigger) is judged by its heartbeat alone');
  assert.match(staleReason(parseHeld(`@@held 600\n${JSON.stringify(holder)}\n`), { pidOfRun: () => undefined, alive: () => true })!, /not touched it for 600 s \(stale after 120 s\)/);
  assert.match(staleReason(parseHeld('@@held 600\nhand-made\n'), { pidOfRun: ours, alive: () => true })!, /600 s/);
});

// The lock itself, held in a directory of the test's own over a local transport (real sh, real files),
// by real processes: this one and holders started with test/helpers/hold-deploy-lock.ts.
const local = () => remoteOf(new LocalTransport('localhost'));
const place = () => {
  const root = mkdtempSync(path.join(tmpdir(), 'deploy-lock-'));
  return { dir: path.join(root, 'deploys'), runs: path.join(root, 'runs') };
};
const ownerOf = (dir: string) => readFileSync(path.join(dir, 'lock', 'owner'), 'utf8');

/** A holder in its own node process (no tsx wrapper, so the signal reaches it), killed by the test. Resolves once it holds the lock. */
async function startHolder(dir: string, runs: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/hold-deploy-lock.ts', 'local', dir, runs], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`the holder exited ${code} before holding the lock`)));
  });
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** Polls a condition a bounded number of times (never a fixed sleep for the outcome itself). */
async function eventually(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !fn(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > end) assert.fail(`never happened within ${ms} ms: ${what}`);
}

test('item 14: a live holder on another controller with the same host name keeps the lock, though its pid means nothing here', async () => {
  const p = place();
  mkdirSync(path.join(p.dir, 'lock'), { recursive: true });
  // What a run in a container or CI runner named like this machine writes: its pid is of its own pid namespace
  // (here: a process that has exited), and it touched the lock just now.
  const dead = spawnSync('true').pid!;
  writeFileSync(path.join(p.dir, 'lock', 'owner'), `${JSON.stringify({ user: 'bob', action: 'deploy', at: new Date().toISOString(), host: hostname(), pid: dead, run: randomUUID() })}\n`);
  const before = ownerOf(p.dir);
  await assert.rejects(takeDeployLock(local(), { user: 'alice', action: 'deploy' }, p), new RegExp(`another deploy holds the lock ${p.dir}/lock \\(bob deploy since \\S+, pid ${dead} on ${hostname()}\\)`));
  assert.equal(ownerOf(p.dir), before, "bob's lock is untouched");
});

test("item 14: a holder of this controller's that died (SIGKILL) is taken over at once, naming it", async () => {
  const p = place();
  const child = await startHolder(p.dir, p.runs);
  const theirs = JSON.parse(ownerOf(p.dir)) as { pid: number };
  await assert.rejects(takeDeployLock(local(), { user: 'alice', action: 'deploy' }, p), /another deploy holds the lock .*holder hold the lock since .*, pid \d+ on /, 'alive, it keeps the lock');
  await killed(child);
  const lock = await takeDeployLock(local(), { user: 'alice', action: 'deploy' }, p);
  assert.match(lock.tookOver ?? '', new RegExp(`took over a stale deploy lock \\(holder hold the lock since \\S+, pid ${theirs.pid} on ${hostname()}\\): its process ${theirs.pid} on ${hostname()} is gone`));
  assert.match(ownerOf(p.dir), /"user":"alice"/);
  await lock.release();
  assert.equal(existsSync(path.join(p.dir, 'lock')), false, 'released');
});

test('item 14: a heartbeat that finds the lock taken from this run is reported when the run releases it', async () => {
  const p = place();
  const lock = await takeDeployLock(local(), { user: 'alice', action: 'deploy' }, { ...p, heartbeatMs: 50 });
  // Another controller presumed this run dead and took the lock over.
  const other = `${JSON.stringify({ user: 'bob', action: 'deploy', at: new Date().toISOString(), host: 'elsewhere', pid: 1, run: randomUUID() })}\n`;
  writeFileSync(path.join(p.dir, 'lock', 'owner'), other);
  await eventually('the heartbeat noticing', () => /no longer this run's/.test((lock as { heartbeatTrouble?: () => string | undefined }).heartbeatTrouble?.() ?? ''));
  await assert.rejects(lock.release(), /the deploy lock .*\/lock was no longer this run's .*bob deploy since \S+, pid 1 on elsewhere.*another run may have changed services meanwhile/s);
  assert.equal(ownerOf(p.dir), other, "bob's lock is left to bob");
});

test('item 14: a heartbeat that cannot touch the lock (its directory removed by hand) is reported, not swallowed', async () => {
  const p = place();
  const lock = await takeDeployLock(local(), { user: 'alice', action: 'deploy' }, { ...p, heartbeatMs: 50 });
  rmSync(path.join(p.dir, 'lock'), { recursive: true });
  await eventually('the heartbeat failing', () => ((lock as { heartbeatTrouble?: () => string | undefined }).heartbeatTrouble?.() ?? '') !== '');
  await assert.rejects(lock.release(), /the deploy lock .*\/lock was no longer this run's \(now: removed\)/s);
});
