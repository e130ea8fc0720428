import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sh, FileStdin } from '../../lib/shell/command.ts';
import { controller } from '../helpers/interrupt.ts';
import { startSshd, sshInventory, transportTo, type TestSshd } from '../helpers/sshd.ts';

let sshd: TestSshd;
let work: string;
before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'rigger-large-copy-'));
  sshd = await startSshd();
});
after(async () => {
  rmSync(work, { recursive: true, force: true });
  await sshd.stop();
});

const MiB = 1024 * 1024;

/**
 * A file just over Node's 2 GiB read limit, sparse so that it costs no disk:
 * random 1 MiB blocks at the start, around 1 GiB, across the 2 GiB mark and
 * at the end, zeros between (a shifted or dropped chunk still shows).
 */
function bigSparseFile(file: string, size: number) {
  writeFileSync(file, '');
  execFileSync('truncate', ['-s', String(size), file]);
  const fd = openSync(file, 'r+');
  try {
    for (const at of [0, 1024 * MiB + 12345, 2048 * MiB - MiB / 2, size - MiB]) writeSync(fd, randomBytes(MiB), 0, MiB, at);
  } finally {
    closeSync(fd);
  }
}

test('item 17: ops.copy of a controller file over 2 GiB arrives byte-equal over a real sshd', async () => {
  const src = path.join(work, 'big.src');
  const dest = path.join(work, 'dest', 'big.bin');
  const size = 2048 * MiB + 3 * MiB + 7;
  bigSparseFile(src, size);
  mkdirSync(path.dirname(dest));
  const c = controller('copy-src.ts', sshInventory([{ name: 'h1', sshd }]), { COPY_SRC: src, COPY_DEST: dest });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (out += d));
  const code = await new Promise((r) => c.on('close', r));
  try {
    assert.equal(code, 0, out);
    assert.equal(statSync(dest).size, size);
    // cmp exits 0 only when every byte is equal.
    execFileSync('cmp', [src, dest]);
  } finally {
    rmSync(dest, { force: true });
    rmSync(src, { force: true });
  }
});

test('item 17: a streamed file that is shorter than announced fails naming it, and its command never acts on the short input', async () => {
  const src = path.join(work, 'short.src');
  writeFileSync(src, randomBytes(3 * MiB));
  const out = path.join(work, 'short.out');
  const acted = path.join(work, 'acted');
  const t = transportTo(sshd);
  try {
    // Announced 1 MiB longer than it is: the transfer ends early, as a file that shrank while being sent.
    const cmd = sh`cat > ${out} && touch ${acted}`.withStdin(new FileStdin(src, 4 * MiB, 'unknown'));
    await assert.rejects(t.exec(cmd), (e: Error) => e.message.includes(src) && /changed on the controller/.test(e.message));
    // The host side ends on its own; give it the time to (not) act.
    for (let i = 0; i < 50 && !existsSync(acted); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(existsSync(acted), false, 'the command was killed before it saw EOF');
    // The connection is still usable, and a whole file goes through.
    const whole = await t.exec(sh`cat > ${out} && touch ${acted}`.withStdin(new FileStdin(src, 3 * MiB, 'unknown')));
    assert.equal(whole.code, 0, whole.stderr.toString());
    assert.deepEqual(readFileSync(out), readFileSync(src));
  } finally {
    await t.close();
  }
});
