import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { Secret, redact, redactDeep } from '../../lib/core/secret.ts';
import { encryptValue, decryptValue, VaultError } from '../../lib/core/vault.ts';

test('a Secret prints as *** in every form', () => {
  const s = new Secret('tok-ABCDEF-1');
  assert.equal(String(s), '***');
  assert.equal(JSON.stringify({ s }), '{"s":"***"}');
  assert.equal(inspect(s), '***');
  assert.equal(`${s}`, '***');
  assert.equal(s.reveal(), 'tok-ABCDEF-1');
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
