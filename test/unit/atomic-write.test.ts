// The atomic write's script (lib/ops/files/write-file.ts) run by dash on this
// machine: the temp file named without mktemp, and the old owner kept without
// a stat, in the cases where those shortcuts must not be taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Command } from '../../lib/shell/command.ts';
import { atomicWrite } from '../../lib/ops/files/write-file.ts';
import { scratchDir } from '../helpers/run.ts';

const NOBODY = 65534;

/** Runs the write (after `before`, in the same shell) with its own stdin; returns the exit status and stderr. */
function write(path: string, content: string, before = '') {
  const sha = createHash('sha256').update(content).digest('hex');
  const c: Command = atomicWrite(path, Buffer.from(content), sha, '0644', {});
  const r = spawnSync('dash', ['-c', before + c.bytes.toString('latin1')], { input: c.stdinBytes() });
  return { code: r.status, stderr: r.stderr.toString() };
}

test('a leftover temp file of the same name (a dead run with the same pid) is left alone: the write picks another name', () => {
  const dir = scratchDir();
  // The shell names its temp file after its own pid: make that name taken first.
  const r = write(`${dir}/f`, 'new\n', `n=0000000$$; echo leftover > ${dir}/.rigger.\${n#"\${n%????????}"}\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(`${dir}/f`, 'utf8'), 'new\n');
  const left = readdirSync(dir).filter((f) => f.startsWith('.rigger.'));
  assert.equal(left.length, 1, 'only the leftover, the write\'s own temp file was renamed');
  assert.equal(readFileSync(`${dir}/${left[0]}`, 'utf8'), 'leftover\n', 'and the leftover is untouched');
});

test('a file owned by someone else keeps its owner and group; one of the writer\'s keeps the writer\'s', () => {
  const dir = scratchDir();
  writeFileSync(`${dir}/theirs`, 'old\n');
  chownSync(`${dir}/theirs`, NOBODY, NOBODY);
  writeFileSync(`${dir}/mine`, 'old\n');
  for (const f of ['theirs', 'mine']) assert.equal(write(`${dir}/${f}`, 'new\n').code, 0);
  assert.deepEqual([statSync(`${dir}/theirs`).uid, statSync(`${dir}/theirs`).gid], [NOBODY, NOBODY]);
  assert.deepEqual([statSync(`${dir}/mine`).uid, statSync(`${dir}/mine`).gid], [process.getuid!(), process.getgid!()]);
  assert.equal(readFileSync(`${dir}/theirs`, 'utf8'), 'new\n');
});

test('in a setgid directory the old file\'s group is copied, even when it is the writer\'s', () => {
  const dir = scratchDir();
  chownSync(dir, process.getuid!(), NOBODY);
  chmodSync(dir, 0o2755);
  writeFileSync(`${dir}/f`, 'old\n');
  chownSync(`${dir}/f`, process.getuid!(), process.getgid!());
  assert.equal(write(`${dir}/f`, 'new\n').code, 0);
  assert.equal(statSync(`${dir}/f`).gid, process.getgid!(), 'not the directory\'s group the temp file inherited');
});
