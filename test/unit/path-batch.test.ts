// Joined path reads (lib/runner/path-batch.ts): the probes of one batch
// share one stat and one sha256sum, and each gets back the exact output its
// own command prints. Real dash on this machine; the same over sshd in
// test/ssh/path-batch.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from '../../lib/shell/command.ts';
import { joinPathReads, splitPathGroup, pathGroupScript, type BatchProbe } from '../../lib/runner/path-batch.ts';
import { batchScript, splitBatch } from '../../lib/runner/probe-batch.ts';
import { pathStateProbe } from '../../lib/ops/files/path-state.ts';
import type { ExecResult } from '../../lib/transport/types.ts';
import { scratchDir } from '../helpers/run.ts';

const dash = (c: Command): ExecResult => {
  const r = spawnSync('dash', ['-c', c.bytes.toString('latin1')], { encoding: 'buffer' });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1, durationMs: 0 };
};
const same = (r: ExecResult) => ({ stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), code: r.code });

function joined(probes: BatchProbe[]) {
  const marker = '@@test-marker';
  const j = joinPathReads(probes, marker);
  const { command } = batchScript(j.commands, marker);
  return j.split(splitBatch(dash(command), marker, j.commands.length));
}

test('a joined read of mixed paths gives each probe the output its own command prints', () => {
  const dir = scratchDir();
  mkdirSync(`${dir}/d`);
  writeFileSync(`${dir}/f`, 'hello\n');
  writeFileSync(`${dir}/empty`, '');
  writeFileSync(`${dir}/name with spaces 'quotes'\nnewline`, 'odd\n');
  writeFileSync(`${dir}/bin`, Buffer.from([0, 255, 10, 1]));
  symlinkSync(`${dir}/f`, `${dir}/link`);
  symlinkSync(`${dir}/nowhere`, `${dir}/dangling`);
  const probes = [
    pathStateProbe(`${dir}/absent`, true),
    pathStateProbe(`${dir}/f`, true),
    pathStateProbe(`${dir}/f`, false),
    pathStateProbe(`${dir}/empty`, true),
    pathStateProbe(`${dir}/d`, true),
    pathStateProbe(`${dir}/link`, true),
    pathStateProbe(`${dir}/dangling`, 4096),
    pathStateProbe(`${dir}/name with spaces 'quotes'\nnewline`, true),
    pathStateProbe(`${dir}/bin`, 3),
    pathStateProbe(`${dir}/bin`, 4),
  ];
  const outs = joined(probes.map((p) => ({ command: p.command, read: p.read })));
  probes.forEach((p, i) => {
    assert.ok(outs[i], `probe ${i} was read in the joined batch`);
    assert.deepEqual(same(outs[i]!), same(dash(p.command)), `probe ${i}`);
  });
});

test('a file already holding the wanted content is not read back, as its own probe does', () => {
  const dir = scratchDir();
  writeFileSync(`${dir}/a`, 'want\n');
  writeFileSync(`${dir}/b`, 'other\n');
  const want = '0'.repeat(64);
  const sha = spawnSync('sha256sum', [`${dir}/a`]).stdout.toString().split(' ')[0]!;
  const probes = [pathStateProbe(`${dir}/a`, true, sha), pathStateProbe(`${dir}/b`, true, want)];
  const outs = joined(probes.map((p) => ({ command: p.command, read: p.read })));
  probes.forEach((p, i) => assert.deepEqual(same(outs[i]!), same(dash(p.command))));
  assert.ok(!outs[0]!.stdout.toString().includes(Buffer.from('want\n').toString('base64')), 'the matching file was not read');
  assert.ok(outs[1]!.stdout.toString().includes(Buffer.from('other\n').toString('base64')), 'the other one was');
});

test('other probes keep their place and output beside a joined group', () => {
  const dir = scratchDir();
  writeFileSync(`${dir}/f`, 'x');
  const a = pathStateProbe(`${dir}/f`, true);
  const b = pathStateProbe(`${dir}/g`, true);
  const outs = joined([{ command: a.command, read: a.read }, { command: b.command }, { command: b.command, read: b.read }]);
  assert.deepEqual(same(outs[0]!), same(dash(a.command)));
  assert.deepEqual(same(outs[1]!), same(dash(b.command)), 'the unjoined probe ran on its own');
  assert.deepEqual(same(outs[2]!), same(dash(b.command)));
});

test('anything that does not add up leaves the group unread, never a wrong state', () => {
  const dir = scratchDir();
  writeFileSync(`${dir}/f`, 'hello\n');
  writeFileSync(`${dir}/g`, 'world\n');
  const reads = [pathStateProbe(`${dir}/f`, true).read!, pathStateProbe(`${dir}/g`, true).read!];
  const marker = '@@m';
  const good = dash(pathGroupScript(reads, marker));
  assert.ok(splitPathGroup(good, reads, marker), 'the untouched output splits');
  const edit = (from: string, to: string): ExecResult => ({ ...good, stdout: Buffer.from(good.stdout.toString('latin1').replace(from, to), 'latin1') });
  const b64 = Buffer.from('hello\n').toString('base64');
  // A file that changed between sha256sum and cat: its bytes no longer match the checksum.
  assert.equal(splitPathGroup(edit(b64, Buffer.from('hellO\n').toString('base64')), reads, marker), undefined);
  // A stat line missing (a path vanished between the existence test and stat).
  assert.equal(splitPathGroup(edit(/regular file\|[^\n]*\n/.exec(good.stdout.toString())![0], ''), reads, marker), undefined);
  // A kind that changed.
  assert.equal(splitPathGroup(edit('\n@@m 0\nff', '\n@@m 0\nf0'), reads, marker), undefined);
  // A failing sha256sum, and any stderr.
  assert.equal(splitPathGroup({ ...good, stderr: Buffer.from('sha256sum: f: Permission denied\n') }, reads, marker), undefined);
  // A section missing.
  assert.equal(splitPathGroup({ ...good, stdout: good.stdout.subarray(0, good.stdout.length - 8) }, reads, marker), undefined);
});

test('a failing sha256sum (a file root cannot read: NFS root squash, FUSE) leaves the group unread', () => {
  const dir = scratchDir();
  writeFileSync(path.join(dir, 'f'), 'x');
  writeFileSync(path.join(dir, 'g'), 'y');
  const reads = [pathStateProbe(`${dir}/f`, true).read!, pathStateProbe(`${dir}/g`, false).read!];
  const script = pathGroupScript(reads, '@@m').bytes.toString('latin1').replace('sha256sum -- "$@"', 'sha256sum -- "$@"; false');
  const r = dash(new Command(Buffer.from(script, 'latin1')));
  assert.equal(splitPathGroup(r, reads, '@@m'), undefined);
});
