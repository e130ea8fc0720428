import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { quote } from '../../lib/shell/quote.ts';
import { sh, raw } from '../../lib/shell/command.ts';
import { Secret } from '../../lib/shell/secret.ts';

// dash is Debian's /bin/sh: the quoting must survive it, not just bash.
function throughDash(value: Buffer): Buffer {
  const cmd = Buffer.concat([Buffer.from("printf '%s' "), quote(value)]);
  return execFileSync('dash', ['-c', 's=$(cat); eval "$s"'], { input: cmd });
}

test('quote leaves plain words bare and quotes everything else', () => {
  assert.equal(quote('abc-1.2/x').toString(), 'abc-1.2/x');
  assert.equal(quote('').toString(), "''");
  assert.equal(quote("it's").toString(), `'it'\\''s'`);
  assert.equal(quote('$(id)').toString(), "'$(id)'");
  assert.equal(quote(42).toString(), '42');
});

test('quoted values round-trip through dash byte for byte', () => {
  const samples = [
    "'", "''", '"', '$HOME', '`id`', '$(touch /tmp/x)', 'a\nb', '-n', '*', '\\', 'é', '\t', ' ', '!',
  ].map((s) => Buffer.from(s));
  samples.push(Buffer.from([0xff, 0xfe, 0x80, 0x27, 0x0a]));
  for (const s of samples) assert.deepEqual(throughDash(s), s, `value ${JSON.stringify(s.toString('latin1'))}`);
});

test('sh quotes interpolations, keeps raw and nested commands, joins arrays', () => {
  const c = sh`ls ${'a b'} ${['x', "y'z"]} ${raw('| wc -l')} && ${sh`echo ${'$x'}`}`;
  assert.equal(c.bytes.toString(), `ls 'a b' x 'y'\\''z' | wc -l && echo '$x'`);
});

test('a Secret can never be interpolated into argv', () => {
  const s = new Secret('pw-123456');
  assert.throws(() => sh`echo ${s as unknown as string}`, /Secret cannot be placed in a command line/);
  const c = sh`cat`.withStdin(s);
  assert.equal(c.stdinBytes().toString(), 'pw-123456');
  assert.ok(!c.display().includes('pw-123456'));
});
