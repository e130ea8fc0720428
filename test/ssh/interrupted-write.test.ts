import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { controller as spawnController, settled } from '../helpers/interrupt.ts';
import { startSshdWithOwnTmp, sshInventory } from '../helpers/sshd.ts';

const SIZE = 50 * 1024 * 1024;
const PER_SIGNAL = 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const controller = (inventory: string, src: string, dest: string) => spawnController('copy-src.ts', inventory, { COPY_SRC: src, COPY_DEST: dest });

/** A host whose TMPDIR is its own, so its payload dirs are counted apart from other runs on this machine. */
async function hostWithOwnTmp() {
  const { sshd, work, remoteTmp } = await startSshdWithOwnTmp('rigger-interrupt-');
  const targetDir = path.join(work, 'target');
  mkdirSync(targetDir);
  return { work, remoteTmp, targetDir, sshd };
}

const leftovers = (dir: string, pattern: RegExp) => readdirSync(dir).filter((f) => pattern.test(f));

test('20 x SIGINT, SIGTERM and SIGKILL during a 50 MB copy: the target is old or new; right after each, no temp file beside it and no payload dir in $TMPDIR', async () => {
  const { work, remoteTmp, targetDir, sshd } = await hostWithOwnTmp();
  try {
    const inventory = sshInventory([{ name: 'h1', sshd }]);
    const versions = [randomBytes(SIZE), randomBytes(SIZE)];
    const srcs = versions.map((b, i) => {
      const f = path.join(work, `v${i}`);
      writeFileSync(f, b);
      return f;
    });
    const shas = versions.map(sha);
    const dest = path.join(targetDir, 'big.bin');
    const complete = async (src: string) => {
      const c = controller(inventory, src, dest);
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      assert.equal(await new Promise((r) => c.on('close', r)), 0, err);
    };
    await complete(srcs[0]!);
    assert.deepEqual(readdirSync(remoteTmp), [], 'a write that ended leaves nothing in $TMPDIR');
    const signals = Array.from({ length: PER_SIGNAL }, () => ['SIGINT', 'SIGTERM', 'SIGKILL'] as const).flat();
    let finishedFirst = 0;
    // What each interrupt left, looked at right after it (its host side ended, no
    // later run has swept anything yet): rigger writes temp files beside the target
    // (the file writer) and in the host's $TMPDIR (payload and run-ahead dirs); any
    // name there but the target itself is a leftover, whatever rigger calls it.
    const leftAfterInterrupt: string[] = [];
    const tempNames = () => [...readdirSync(targetDir).filter((f) => f !== 'big.bin').map((f) => `target/${f}`), ...readdirSync(remoteTmp).map((f) => `$TMPDIR/${f}`)];
    for (const [i, signal] of signals.entries()) {
      const next = sha(readFileSync(dest)) === shas[0] ? 1 : 0;
      const c = controller(inventory, srcs[next]!, dest);
      const closed = new Promise<number | null>((r) => c.on('close', r));
      let done = false;
      void closed.then(() => (done = true));
      // Wait for the write to be under way (its payload is arriving on the host), then
      // let it go on for 0-600 ms so that every stage is hit: transfer, temp file, rename.
      const before = new Set(tempNames());
      while (!done && tempNames().every((f) => before.has(f))) await sleep(5);
      await sleep((i % 7) * 100);
      const finished = done;
      if (finished) finishedFirst++;
      else c.kill(signal);
      await closed;
      await settled(sshd, targetDir);
      const now = sha(readFileSync(dest));
      assert.ok(now === shas[0] || now === shas[1], `${signal} #${i}: the target is the old or the new content, never torn`);
      const left = tempNames();
      if (left.length > 0) leftAfterInterrupt.push(`${signal} #${i}${finished ? ' (finished first)' : ''}: ${left.join(', ')}`);
    }
    assert.deepEqual(leftAfterInterrupt, [], 'right after each interrupt, no temp file beside the target and nothing in $TMPDIR');
    // The next run: it sweeps what a killed run left (rigger's own names, older than it).
    await complete(srcs[sha(readFileSync(dest)) === shas[0] ? 1 : 0]!);
    assert.deepEqual(leftovers(targetDir, /^\.rigger\./), [], 'no temp file beside the target after the next run');
    assert.deepEqual(readdirSync(targetDir), ['big.bin']);
    assert.deepEqual(leftovers(remoteTmp, /^rigger\./), [], 'no payload dir left on the host');
    assert.ok(finishedFirst < signals.length / 2, `most runs were interrupted (${finishedFirst} finished first)`);
    assert.ok(existsSync(dest));
  } finally {
    await sshd.stop();
  }
});

test('a write sweeps stale temp files of rigger\'s own names only, older than the run', async () => {
  const { work, remoteTmp, targetDir, sshd } = await hostWithOwnTmp();
  try {
    const hourAgo = new Date(Date.now() - 3600_000);
    const inAnHour = new Date(Date.now() + 3600_000);
    const make = (p: string, dir: boolean, when: Date) => {
      if (dir) mkdirSync(p);
      else writeFileSync(p, 'left by a killed run');
      utimesSync(p, when, when);
    };
    make(path.join(targetDir, '.rigger.Ab3dEf9h'), false, hourAgo);
    make(path.join(targetDir, '.rigger.keep'), false, hourAgo);
    make(path.join(targetDir, '.rigger.Zz9yX8w7'), false, inAnHour);
    make(path.join(remoteTmp, 'rigger.Q1w2E3r4'), true, hourAgo);
    make(path.join(remoteTmp, 'rigger-ahead.Q1w2E3r4'), true, hourAgo);
    make(path.join(remoteTmp, 'rigger.mine'), true, hourAgo);
    make(path.join(remoteTmp, 'rigger.T5y6U7i8'), true, inAnHour);
    const src = path.join(work, 'src');
    writeFileSync(src, 'new content\n');
    const c = controller(sshInventory([{ name: 'h1', sshd }]), src, path.join(targetDir, 'f'));
    assert.equal(await new Promise((r) => c.on('close', r)), 0);
    assert.deepEqual(readdirSync(targetDir).sort(), ['.rigger.Zz9yX8w7', '.rigger.keep', 'f']);
    assert.deepEqual(readdirSync(remoteTmp).sort(), ['rigger.T5y6U7i8', 'rigger.mine']);
  } finally {
    await sshd.stop();
  }
});
