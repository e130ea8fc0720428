import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KnownHosts, parseKnownHosts, entryMatches, fingerprint, hostKeyName } from '../../lib/transport/known-hosts.ts';

function keyBlob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}

const keyA = keyBlob('ssh-ed25519', 'AAAA-key-a');
const keyB = keyBlob('ssh-ed25519', 'BBBB-key-b');

function hashed(name: string): string {
  const salt = randomBytes(20);
  const h = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${h.toString('base64')}`;
}

test('host names for known_hosts follow OpenSSH: bare on 22, [host]:port otherwise', () => {
  assert.equal(hostKeyName('h', 22), 'h');
  assert.equal(hostKeyName('10.0.0.1', 2222), '[10.0.0.1]:2222');
});

test('plain, bracketed, wildcard, negated and hashed entries match as OpenSSH does', () => {
  const text = [
    '# comment',
    `plain.example,10.1.1.1 ssh-ed25519 ${keyA.toString('base64')}`,
    `[port.example]:2222 ssh-ed25519 ${keyA.toString('base64')}`,
    `*.wild.example,!bad.wild.example ssh-ed25519 ${keyA.toString('base64')}`,
    `${hashed('[hashed.example]:2200')} ssh-ed25519 ${keyA.toString('base64')}`,
    `@revoked revoked.example ssh-ed25519 ${keyB.toString('base64')}`,
    'garbage line',
  ].join('\n');
  const entries = parseKnownHosts(text);
  assert.equal(entries.length, 5);
  const matches = (name: string) => entries.filter((e) => entryMatches(e, name)).length;
  assert.equal(matches('plain.example'), 1);
  assert.equal(matches('10.1.1.1'), 1);
  assert.equal(matches('[port.example]:2222'), 1);
  assert.equal(matches('port.example'), 0);
  assert.equal(matches('a.wild.example'), 1);
  assert.equal(matches('bad.wild.example'), 0);
  assert.equal(matches('[hashed.example]:2200'), 1);
  assert.equal(matches('hashed.example'), 0);
});

test('verify: known key ok, mismatch shows both fingerprints, unknown refused or recorded', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kh-'));
  const file = path.join(dir, 'known_hosts');
  writeFileSync(file, `[h]:2222 ssh-ed25519 ${keyA.toString('base64')}\n@revoked [r]:22 ssh-ed25519 ${keyB.toString('base64')}\n`);
  const kh = new KnownHosts(file);
  assert.deepEqual(kh.verify('h', 2222, keyA, 'strict'), { ok: true });
  const mismatch = kh.verify('h', 2222, keyB, 'strict');
  assert.equal(mismatch.ok, false);
  assert.ok(!mismatch.ok && mismatch.reason.includes(fingerprint(keyA)) && mismatch.reason.includes(fingerprint(keyB)));
  assert.equal(kh.verify('h', 2222, keyB, 'accept-new').ok, false, 'accept-new never accepts a changed key');
  assert.equal(kh.verify('new', 22, keyA, 'strict').ok, false);
  assert.deepEqual(kh.verify('new', 22, keyA, 'accept-new'), { ok: true, recorded: true });
  assert.match(readFileSync(file, 'utf8'), /^new ssh-ed25519 /m);
  assert.deepEqual(kh.verify('new', 22, keyA, 'strict'), { ok: true });
  assert.equal(kh.verify('r', 22, keyB, 'off').ok, true);
});
