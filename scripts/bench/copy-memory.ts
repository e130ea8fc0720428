// The controller's peak resident memory while `ops.copy` copies one large
// controller file to a host over a local test sshd (issue 27 item 17).
//
//   npx tsx scripts/bench/copy-memory.ts [--code DIR] SIZE_GIB...
//
// --code DIR runs the copy with another checkout's code (its
// test/fixtures/playbooks/copy-src.ts and lib/), e.g. a `git worktree` of
// the commit before the change; the sshd is this checkout's helper. The
// source is a sparse file with random 1 MiB blocks every 256 MiB (memory does
// not depend on the bytes, and a sparse file costs no disk); the copy is
// real, fully written and compared with cmp, then both files are deleted.
// Peak RSS is GNU time's "maximum resident set size" of the controller's
// node process (no tsx wrapper process: node --import tsx).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSshd, sshInventory } from '../../test/helpers/sshd.ts';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const codeAt = args[0] === '--code' ? path.resolve(args[1]!) : process.cwd();
const sizes = (args[0] === '--code' ? args.slice(2) : args).map(Number);
if (sizes.length === 0 || sizes.some((s) => !(s > 0))) {
  console.error('usage: npx tsx scripts/bench/copy-memory.ts [--code DIR] SIZE_GIB...  (e.g. 1.5 4)');
  process.exit(2);
}

function sparseSource(file: string, size: number) {
  writeFileSync(file, '');
  execFileSync('truncate', ['-s', String(size), file]);
  const fd = openSync(file, 'r+');
  try {
    for (let at = 0; at < size; at += 256 * MiB) writeSync(fd, randomBytes(Math.min(MiB, size - at)), 0, Math.min(MiB, size - at), at);
  } finally {
    closeSync(fd);
  }
}

/** Runs the copy; resolves to GNU time's max RSS (KiB), the wall time and the exit status. */
function copyOnce(inventory: string, src: string, dest: string): Promise<{ rssKiB: number; seconds: number; code: number | null; output: string }> {
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', 'RIGGER_BENCH_RSS %M', process.execPath, '--import', 'tsx', 'test/fixtures/playbooks/copy-src.ts', '-i', inventory], {
    cwd: codeAt,
    env: { ...process.env, NO_COLOR: '1', COPY_SRC: src, COPY_DEST: dest },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const m = /RIGGER_BENCH_RSS (\d+)/.exec(output);
      resolve({ rssKiB: m ? Number(m[1]) : NaN, seconds: (performance.now() - started) / 1000, code, output });
    }),
  );
}

const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: codeAt }).toString().trim() !== '';
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: codeAt }).toString().trim() + (dirty ? ' with uncommitted changes' : '');
const work = mkdtempSync(path.join(tmpdir(), 'rigger-copy-memory-'));
const sshd = await startSshd();
try {
  const inventory = sshInventory([{ name: 'h1', sshd }]);
  mkdirSync(path.join(work, 'dest'));
  console.log(`code: ${codeAt} (commit ${commit}); node ${process.version}`);
  console.log('size        peak RSS     wall     result');
  for (const gib of sizes) {
    const size = Math.round(gib * 1024 * MiB);
    const src = path.join(work, 'src.bin');
    const dest = path.join(work, 'dest', 'copy.bin');
    sparseSource(src, size);
    const r = await copyOnce(inventory, src, dest);
    let result = r.code === 0 ? 'copied' : `failed (exit ${r.code}): ${r.output.split('\n').find((l) => /failed:|Error/.test(l))?.trim() ?? ''}`;
    if (r.code === 0) {
      try {
        execFileSync('cmp', [src, dest]);
        result += ', byte-equal';
      } catch {
        result += ', NOT byte-equal';
      }
    }
    console.log(`${`${gib} GiB`.padEnd(11)} ${`${(r.rssKiB / 1024).toFixed(0)} MiB`.padEnd(12)} ${`${r.seconds.toFixed(1)} s`.padEnd(8)} ${result}`);
    rmSync(src, { force: true });
    rmSync(dest, { force: true });
  }
} finally {
  await sshd.stop();
  rmSync(work, { recursive: true, force: true });
}
