import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dsm, parseDsmSide, parseDsmVersion } from '../../lib/facts/dsm.ts';
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
  // The fact's own command, run here against a copy of the file: what it reads is what the parser expects.
  assert.match(dsm.command.toString(), /\/etc\.defaults\/VERSION/);
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
});
