import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { sh } from '../../lib/shell/command.ts';
import { batchScript, splitBatch } from '../../lib/runner/probe-batch.ts';

test('a batch of probes runs in one sh and splits back into exact outputs and codes', () => {
  const probes = [
    sh`printf 'no newline'`,
    sh`printf 'two\\nlines\\n'; echo err >&2; exit 3`,
    sh`exit 0`,
    sh`printf '\\377\\000bin'`,
    sh`exit 7`,
  ];
  const { command, marker } = batchScript(probes);
  const r = spawnSync('dash', ['-c', command.bytes.toString('latin1')], { encoding: 'buffer' });
  const outs = splitBatch({ stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1, durationMs: 0 }, marker, probes.length);
  assert.deepEqual(outs.map((o) => o.code), [0, 3, 0, 0, 7]);
  assert.equal(outs[0]!.stdout.toString(), 'no newline');
  assert.equal(outs[1]!.stdout.toString(), 'two\nlines\n');
  assert.equal(outs[1]!.stderr.toString(), 'err\n');
  assert.equal(outs[2]!.stdout.length, 0);
  assert.deepEqual(outs[3]!.stdout, Buffer.from([0xff, 0x00, 0x62, 0x69, 0x6e]));
});
