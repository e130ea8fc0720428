import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dsm, dsmSide, parseDsmSide, parseDsmVersion } from '../../lib/facts/dsm.ts';
import { gatherInRoot as gather } from '../helpers/fact-in-root.ts';
import { unlessDsm } from '../../roles/common.ts';

// DSM 7.2's /etc.defaults/VERSION, as a DS923+ has it.
const DSM_72 = `majorversion="7"
minorversion="2"
major="7"
minor="2"
micro="1"
buildphase="GM"
buildnumber="69057"
smallfixnumber="5"
nano="0"
base="69057"
productversion="7.2.1"
os_name="DSM"
builddate="2024/04/23"
buildtime="19:16:44"
`;

test('the dsm fact tells DSM apart by its version file; Debian and Ubuntu have none', () => {
  assert.deepEqual(parseDsmVersion(DSM_72), { present: true, version: '7.2.1', build: '69057' });
  assert.deepEqual(parseDsmVersion(''), { present: false });
  // The fact's own command, run where DSM keeps the file and where there is none (this machine's Debian).
  const dsm72 = { present: true, version: '7.2.1', build: '69057' };
  assert.deepEqual(gather(dsm, { '/etc.defaults/VERSION': DSM_72 }), [dsm72, dsm72]);
  assert.deepEqual(gather(dsm, {}), [{ present: false }, { present: false }]);
});

test("apt steps are skipped on DSM with the reason; elsewhere the step's own condition decides", () => {
  const host = (d: { present: boolean; version?: string }, vars: Record<string, unknown> = {}) => ({ fact: () => d, vars }) as never;
  const step = unlessDsm('no apt', { when: (h) => (h as unknown as { vars: { on: boolean } }).vars.on, whenReason: 'on is false' });
  const onDsm = host({ present: true, version: '7.2.1' }, { on: true });
  assert.equal(step.when(onDsm), false);
  assert.equal(step.whenReason(onDsm), 'DSM 7.2.1 (Synology): no apt');
  assert.equal(step.when(host({ present: false }, { on: true })), true);
  assert.equal(step.when(host({ present: false }, { on: false })), false);
  assert.equal(step.whenReason(host({ present: false }, { on: false })), 'on is false');
});

test("preflight's DSM-side facts: the share, its NFS export and the NFS service", () => {
  assert.deepEqual(parseDsmSide('share\nexported\nnfsd\n'), { share: true, exported: true, nfsd: true });
  assert.deepEqual(parseDsmSide('share\n'), { share: true, exported: false, nfsd: false });
  // The fact's own command on a DSM-like root: DSM's /etc/exports quotes the path; nfsd's thread count is 0 when it is stopped.
  const all = { share: true, exported: true, nfsd: true };
  const exported = '"/volume1/backup" 10.0.0.0/24(rw,async,no_wdelay,no_root_squash,insecure_locks,sec=sys,anonuid=1025,anongid=100)\n';
  assert.deepEqual(gather(dsmSide('/volume1/backup'), { '/volume1/backup/.keep': '', '/etc/exports': exported, '/proc/fs/nfsd/threads': '8\n' }), [all, all]);
  const shareOnly = { share: true, exported: false, nfsd: false };
  assert.deepEqual(gather(dsmSide('/volume1/backup'), { '/volume1/backup/.keep': '', '/etc/exports': '"/volume1/other" 10.0.0.0/24(rw)\n', '/proc/fs/nfsd/threads': '0\n' }), [shareOnly, shareOnly]);
  const none = { share: false, exported: false, nfsd: false };
  assert.deepEqual(gather(dsmSide('/volume1/backup'), { '/etc/exports': '' , '/proc/fs/nfsd/threads': '' }), [none, none]);
});
