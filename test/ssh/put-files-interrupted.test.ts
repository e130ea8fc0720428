// Interrupting the controller while one call of the file writer
// (lib/ops/files/put-files.ts) writes five large files: after SIGINT,
// SIGTERM or SIGKILL every target is whole (its old or its new content),
// no temp file is left beside them, and no payload dir in the host's TMPDIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { controller as spawnController, settled } from '../helpers/interrupt.ts';
import { startSshdWithOwnTmp, sshInventory } from '../helpers/sshd.ts';

const FILES = 5;
const SIZE = 8 * 1024 * 1024;
const PER_SIGNAL = 6;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const names = Array.from({ length: FILES }, (_, i) => `f${i + 1}.bin`);

const controller = (inventory: string, src: string, dest: string) => spawnController('copy-tree-src.ts', inventory, { COPY_SRC: src, COPY_DEST: dest });

const temps = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.rigger.'));

test(`${PER_SIGNAL} x SIGINT, SIGTERM and SIGKILL while one call writes ${FILES} files of 8 MB: each target whole, no temp file`, async () => {
  const { sshd, work, remoteTmp } = await startSshdWithOwnTmp('rigger-put-interrupt-');
  const dest = path.join(work, 'target');
  try {
    const inventory = sshInventory([{ name: 'h1', sshd }]);
    // Two source trees: every file differs between them.
    const versions = [0, 1].map((v) => {
      const dir = path.join(work, `v${v}`);
      mkdirSync(dir);
      return names.map((n) => {
        const b = randomBytes(SIZE);
        writeFileSync(path.join(dir, n), b);
        return sha(b);
      });
    });
    const complete = async (v: number) => {
      const c = controller(inventory, path.join(work, `v${v}/`), dest);
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      assert.equal(await new Promise((r) => c.on('close', r)), 0, err);
    };
    await complete(0);
    const shaOf = (n: string) => sha(readFileSync(path.join(dest, n)));
    const signals = Array.from({ length: PER_SIGNAL }, () => ['SIGINT', 'SIGTERM', 'SIGKILL'] as const).flat();
    let finishedFirst = 0;
    const tempsAfterInterrupt: string[] = [];
    for (const [i, signal] of signals.entries()) {
      // Towards the version the first file is not at (files may be mixed after an interrupted rename loop).
      const next = shaOf(names[0]!) === versions[0]![0] ? 1 : 0;
      const c = controller(inventory, path.join(work, `v${next}/`), dest);
      const closed = new Promise<number | null>((r) => c.on('close', r));
      let done = false;
      void closed.then(() => (done = true));
      // Once the payload is arriving (or the temp files exist), let it go on for 0-600 ms: transfer, temp files, checks, renames.
      while (!done && readdirSync(remoteTmp).length === 0 && temps(dest).length === 0) await sleep(5);
      await sleep((i % 7) * 100);
      if (done) finishedFirst++;
      else c.kill(signal);
      await closed;
      await settled(sshd, dest);
      names.forEach((n, f) => {
        const now = shaOf(n);
        assert.ok(now === versions[0]![f] || now === versions[1]![f], `${signal} #${i}: ${n} is its old or its new content, never torn`);
      });
      if (temps(dest).length > 0) tempsAfterInterrupt.push(`${signal} #${i}: ${temps(dest).join(' ')}`);
    }
    await complete(shaOf(names[0]!) === versions[0]![0] ? 1 : 0);
    assert.deepEqual(temps(dest), [], 'no temp file after the next run');
    assert.deepEqual(readdirSync(dest).sort(), names);
    assert.deepEqual(readdirSync(remoteTmp), [], 'no payload dir left on the host');
    assert.ok(finishedFirst < signals.length / 2, `most runs were interrupted (${finishedFirst} finished first)`);
    assert.deepEqual(tempsAfterInterrupt, [], 'the traps removed every temp file at once');
  } finally {
    await sshd.stop();
  }
});
