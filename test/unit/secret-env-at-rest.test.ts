import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ops } from '../../lib/index.ts';
import type { Command } from '../../lib/shell/command.ts';
import { Secret } from '../../lib/shell/secret.ts';

const MARKER = 'MARKER09-env q\'"$ \\ é';

test('item 9: a Secret env value reaches the command through memory only, never a file in TMPDIR (run by dash under strace)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-env-at-rest-'));
  const op = ops.command({ argv: ['sh', '-c', 'printf %s "$RIGGER_TEST_PW"'], env: { RIGGER_TEST_PW: new Secret(MARKER) } });
  assert.deepEqual(op.problems, []);
  const decision = op.decide(undefined);
  assert.equal(decision.kind, 'change');
  const c = (decision as { commands: Command[] }).commands[0]!;
  const trace = path.join(work, 'trace');
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat,open,creat', '-o', trace, 'dash', '-c', c.bytes.toString('latin1')], {
    input: c.stdinBytes(),
    env: { ...process.env, TMPDIR: work },
  });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString('utf8'), MARKER, 'the command saw the value whole');
  const written = readFileSync(trace, 'utf8')
    .split('\n')
    .filter((l) => l.includes(work) && /O_WRONLY|O_RDWR|O_CREAT|creat\(/.test(l));
  assert.deepEqual(written, [], 'no file under TMPDIR was opened for writing');
});
