import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copiesDir, copyHostProblems, copyHosts } from '../../lib/backup/copy-host.ts';

const hosts = (spec: string) => spec.split(' ').map((s) => ({ name: s.replace('*', ''), hasOffsite: s.endsWith('*') }));

test('default: every other host copies to the host with backup_offsite; that host to the next one in inventory order', () => {
  const m = copyHosts(hosts('gateway ai ci nas* data'));
  assert.deepEqual(Object.fromEntries(m), { gateway: 'nas', ai: 'nas', ci: 'nas', nas: 'data', data: 'nas' });
});

test('the host with backup_offsite last in order wraps to the first', () => {
  assert.equal(copyHosts(hosts('a b nas*')).get('nas'), 'a');
});

test('no host with backup_offsite: a ring in inventory order', () => {
  assert.deepEqual(Object.fromEntries(copyHosts(hosts('a b c'))), { a: 'b', b: 'c', c: 'a' });
});

test('one backup host only: no copy host', () => {
  assert.deepEqual(Object.fromEntries(copyHosts(hosts('solo*'))), { solo: undefined });
});

test('backup_copy_to wins over the default', () => {
  const m = copyHosts([{ name: 'a', hasOffsite: false, copyTo: 'c' }, { name: 'b', hasOffsite: true }, { name: 'c', hasOffsite: false }]);
  assert.equal(m.get('a'), 'c');
  assert.equal(m.get('c'), 'b');
});

test('backup_copy_to naming the host itself or a host that is not a backup host is refused', () => {
  const p = copyHostProblems([{ name: 'a', hasOffsite: false, copyTo: 'a' }, { name: 'b', hasOffsite: false, copyTo: 'nope' }, { name: 'c', hasOffsite: false, copyTo: 'a' }]);
  assert.equal(p.length, 2);
  assert.match(p[0]!, /^a: .*the host itself/);
  assert.match(p[1]!, /^b: .*nope, which is not a backup host/);
});

test('copies live under the copy host root in copies/HOST', () => {
  assert.equal(copiesDir('/volume1/backup/', 'gateway.vibe.local'), '/volume1/backup/copies/gateway.vibe.local');
});

test('the daily check\'s copy finding: pass when verified, fail naming the set when missing or damaged, warn without a copy host', async () => {
  const { copyFinding } = await import('../../lib/daily/findings.ts');
  assert.equal(copyFinding('a', 'nas', '20261207_020000', { state: 'verified' }).level, 'pass');
  const missing = copyFinding('a', 'nas', '20261207_020000', { state: 'missing' });
  assert.equal(missing.level, 'fail');
  assert.match(missing.detail, /20261207_020000 has no copy on nas/);
  const damaged = copyFinding('a', 'nas', '20261207_020000', { state: 'damaged', problem: 'x differs' });
  assert.equal(damaged.level, 'fail');
  assert.match(damaged.detail, /20261207_020000: its copy on nas is damaged: x differs/);
  assert.equal(copyFinding('a', undefined, '20261207_020000', undefined).level, 'warn');
});
