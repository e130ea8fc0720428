// The pull's watch over a real remote command (a local host, the stand-in
// curl streaming the Engine API's progress), on an injected clock: the stall
// limit is counted from the last progress, and the pull is ended there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../lib/transport/local.ts';
import { imagePull, pullWatched, type PullClock } from '../../lib/ops/docker/image-pull.ts';
import { runOp } from '../../lib/ops/each.ts';
import type { PullProgress } from '../../lib/ops/docker/pull-progress.ts';
import { remoteOf } from '../helpers/remote.ts';
import { pullStandins } from '../helpers/pull-standins.ts';

const standins = pullStandins();
process.env.PATH = `${standins.bin}:${process.env.PATH}`;
process.env.PULL_STATE = standins.state;
const transport = new LocalTransport('node1');
after(async () => {
  for (const f of ['sleep.pid', 'curl.pid']) {
    const file = path.join(standins.state, f);
    if (existsSync(file)) {
      try {
        process.kill(Number(readFileSync(file, 'utf8')), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await transport.close();
});

/** A clock the test moves; its timers fire only when the test ticks. */
function manualClock() {
  let t = 0;
  const timers: (() => void)[] = [];
  const clock: PullClock = {
    now: () => t,
    every: (_ms, fn) => {
      timers.push(fn);
      return () => timers.splice(timers.indexOf(fn), 1);
    },
  };
  return { clock, at: (ms: number) => ((t = ms), timers.forEach((f) => f())) };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean) {
  for (let i = 0; !ok(); i++) {
    if (i > 2000) assert.fail(`never: ${what}`);
    await sleep(10);
  }
}

test('a stalled pull is ended at the stall limit after its last progress, not before, and its failure names node, image and that progress', async () => {
  const { clock, at } = manualClock();
  let seen: PullProgress | undefined;
  const pull = pullWatched(remoteOf(transport), 'reg.lab:5000/lab/app:stall', { stallSeconds: 120, node: 'node1', clock, watch: (p) => (seen = p) });
  const failed = pull.then(
    () => assert.fail('the stalled pull succeeded'),
    (e: Error) => e,
  );
  await until('the first bytes are read', () => seen?.lastProgress?.includes('Downloading') === true);
  await until('the stand-in waits', () => existsSync(path.join(standins.state, 'sleep.pid')));
  const curl = Number(readFileSync(path.join(standins.state, 'curl.pid'), 'utf8'));
  at(119_000);
  // Long enough for a kill, had one been sent, to end the stand-in.
  await sleep(300);
  assert.ok(alive(curl), 'not ended 119 s after the last progress');
  at(120_000);
  const e = await failed;
  assert.match(e.message, /^node1: pulling reg\.lab:5000\/lab\/app:stall: no progress for 120 s \(image_pull_stall_seconds\); last progress: 3f1c2a9b7d10: Downloading 1\.0 MB of 50\.0 MB$/);
  assert.ok(!alive(curl), 'the pull (the stand-in curl) was ended');
  assert.match(readFileSync(path.join(standins.state, 'calls'), 'utf8'), /^http:\/\/localhost\/images\/create\?fromImage=reg\.lab%3A5000%2Flab%2Fapp&tag=stall$/m);
});

test('a pull that keeps progressing runs past the stall limit counted from its start', async () => {
  const { clock, at } = manualClock();
  let seen: PullProgress | undefined;
  let bytes = 0;
  const pull = pullWatched(remoteOf(transport), 'reg.lab:5000/lab/app:slow', {
    stallSeconds: 120,
    clock,
    // Each new byte count arrives 100 s after the last one on the test's clock: 500 s in all.
    watch: (p) => {
      seen = p;
      const m = /Downloading (\d+)/.exec(p.lastProgress ?? '');
      if (m && Number(m[1]) > bytes) (bytes = Number(m[1])), at(bytes * 100_000);
    },
  });
  const done = await pull;
  assert.equal(done.done, true);
  assert.equal(seen!.lastProgressAt, 500_000, 'the last bytes came at 500 s, past the 120 s limit');
});

test("the daemon's error fails the pull with it", async () => {
  await assert.rejects(pullWatched(remoteOf(transport), 'reg.lab:5000/lab/app:missing', { stallSeconds: 120, node: 'node1' }), /^OpFailure: node1: pulling reg\.lab:5000\/lab\/app:missing failed: manifest for lab\/app:missing not found: manifest unknown/);
});

test('an image whose registry a later stack of the run serves: its failed pull is left to Swarm, not a failure; any other image fails the op', async () => {
  const ref = 'reg.lab:5000/lab/app:missing';
  const tried = await runOp(remoteOf(transport), imagePull({ images: [ref], node: 'node1', bestEffort: { [ref]: 'its registry is served by stack cicd' } }));
  assert.equal(tried.changed, true);
  assert.deepEqual(tried.result.pulled, []);
  assert.match(tried.result.leftToSwarm.join('\n'), /^node1: pulling reg\.lab:5000\/lab\/app:missing failed: manifest for lab\/app:missing not found: manifest unknown.*; left to Swarm: its registry is served by stack cicd$/);
  await assert.rejects(runOp(remoteOf(transport), imagePull({ images: [ref], node: 'node1' })), /manifest unknown/);
});
