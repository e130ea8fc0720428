import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { createHash } from 'node:crypto';
import { formsOf, Secret, SecretAsTextError, StreamRedactor, redact, redactDeep } from '../../lib/shell/secret.ts';
import { encryptValue, decryptValue, VaultError } from '../../lib/shell/vault.ts';

test('a Secret prints as *** in logs and JSON, and is an error as text, naming the line', () => {
  const s = new Secret('tok-ABCDEF-1');
  assert.equal(JSON.stringify({ s }), '{"s":"***"}');
  assert.equal(inspect(s), '***');
  assert.equal(s.reveal(), 'tok-ABCDEF-1');
  assert.throws(() => `${s}`, (e: Error) => e instanceof SecretAsTextError && /secret\.test\.ts:\d+:\d+: a Secret was used as text/.test(e.message));
  assert.throws(() => String(s), SecretAsTextError);
  assert.throws(() => 'pw=' + (s as unknown as string), SecretAsTextError);
  assert.throws(() => ['a', s].join(' '), SecretAsTextError);
});

test('redact catches a secret in every encoding: base64 at any offset, hex, digests, JSON and URL escapes', () => {
  const value = 'Mk-7f$q"x y/z';
  new Secret(value);
  const b = Buffer.from(value);
  const encoded = [
    value,
    JSON.stringify({ v: value }),
    encodeURIComponent(value),
    b.toString('hex'),
    ...[0, 1, 2].map((n) => Buffer.concat([Buffer.from('ab'.slice(0, n)), b, Buffer.from('tail')]).toString('base64')),
    ...['sha256', 'sha1', 'md5'].map((a) => createHash(a).update(b).digest('hex')),
  ];
  for (const text of encoded) {
    const out = redact(`before ${text} after`);
    assert.ok(out.includes('***'), `redacted: ${text}`);
    for (const form of formsOf(value).filter((f) => f.length >= 8)) assert.ok(!out.includes(form), `${form} left in ${out}`);
  }
});

test('a secret split between two chunks of a stream is still redacted', () => {
  const value = 'split-secret-4711';
  new Secret(value);
  const text = `line one\nthe token is ${value} ok\nlast`;
  for (let cut = 0; cut <= text.length; cut++) {
    const r = new StreamRedactor();
    const out = r.push(text.slice(0, cut)) + r.push(text.slice(cut)) + r.end();
    assert.equal(out, text.replace(value, '***'), `cut at ${cut}`);
  }
});

test('redact scrubs known secret values from any text and deep values', () => {
  new Secret('inner-pass');
  new Secret('outer-inner-pass-long');
  assert.equal(redact('x outer-inner-pass-long y inner-pass z'), 'x *** y *** z');
  const deep = redactDeep({ a: ['inner-pass'], b: { c: 'say inner-pass' }, e: new Error('fail inner-pass') });
  assert.deepEqual(deep, { a: ['***'], b: { c: 'say ***' }, e: 'fail ***' });
});

test('vault values decrypt with the passphrase and refuse a wrong one or tampering', () => {
  const enc = encryptValue('db-password-77', 'correct horse');
  assert.match(enc, /^\$RIGGER_VAULT;1;/);
  assert.equal(decryptValue(enc, 'correct horse').reveal(), 'db-password-77');
  assert.throws(() => decryptValue(enc, 'wrong'), VaultError);
  const parts = enc.split(';');
  const body = Buffer.from(parts[4]!, 'base64');
  body[0] = body[0]! ^ 1;
  parts[4] = body.toString('base64');
  assert.throws(() => decryptValue(parts.join(';'), 'correct horse'), /wrong vault passphrase or a damaged value/);
  assert.throws(() => decryptValue('$ANSIBLE_VAULT;1.1;AES256\n6162', 'x'), /Ansible Vault/);
});
