import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jobOutcome, type JobSpec } from '../../lib/scheduled/outcome.ts';
import { buildRelease, knownHostsFor } from '../../lib/scheduled/release.ts';

const job: JobSpec = { name: 'rigger-backup', what: 'backup set', bundle: 'backup.mjs', args: [], notify: 'failure', log: '/var/log/rigger/rigger-backup.log', webhookFile: '/etc/rigger/runner/webhook', deadlineSeconds: 7140 };
const started = new Date('2026-11-26T02:00:00Z');
const finished = new Date('2026-11-26T02:00:42Z');

test('a good scheduled run: one ok line with the report, and no webhook for a job that notifies failures', () => {
  const o = jobOutcome(job, { code: 0, events: [{ type: 'report', text: 'data: set 20261126_020000, 3 items verified, 9000 bytes' }], stderrTail: [], started, finished, host: 'data' });
  assert.equal(o.line, '2026-11-26T02:00:42.000Z rigger-backup ok in 42.0 s: data: set 20261126_020000, 3 items verified, 9000 bytes');
  assert.equal(o.notify, false);
  assert.equal(jobOutcome({ ...job, notify: 'always' }, { code: 0, events: [], stderrTail: [], started, finished, host: 'data' }).notify, true, 'the daily check reports every run');
});

test('a failed run names the failed task; one that died before any event names its last stderr line', () => {
  const events = [
    { type: 'task-host', task: 'backup set', host: 'data', status: 'failed', msg: 'postgres-lab_postgres-vibedb: no running container of service lab_postgres\nmore' },
    { type: 'report', text: 'data: FAILED: postgres-lab_postgres-vibedb: no running container' },
  ];
  const o = jobOutcome(job, { code: 2, events, stderrTail: [], started, finished, host: 'data' });
  assert.match(o.line, /rigger-backup FAILED \(exit 2\) in 42\.0 s: data backup set: postgres-lab_postgres-vibedb: no running container of service lab_postgres$/);
  assert.equal(o.notify, true);
  assert.equal(o.payload.status, 'failed');
  assert.match(String(o.payload.text), /^rigger backup set on data: FAILED \(exit 2\): data backup set: postgres/);
  const early = jobOutcome(job, { code: 3, events: [{ type: 'error', message: 'inventory/lab.yml:12:7: an encrypted value needs a passphrase' }], stderrTail: [], started, finished, host: 'data' });
  assert.match(early.line, /FAILED \(exit 3\) .*: inventory\/lab\.yml:12:7: an encrypted value needs a passphrase/);
  const crashed = jobOutcome(job, { code: 1, events: [], stderrTail: ['SyntaxError: Unexpected token'], started, finished, host: 'data' });
  assert.match(crashed.line, /FAILED \(exit 1\) .*: SyntaxError: Unexpected token$/);
});

test("the runner's known_hosts holds the controller's lines for the inventory's hosts only", () => {
  const text = ['10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJCjfgh6RYArHBGRI57D', '[10.0.0.2]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJbexh8HOp3R', 'other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMWlEkRFWJyI'].join('\n');
  const out = knownHostsFor([{ address: '10.0.0.1', port: 22, knownHostsFile: 'k' }, { address: '10.0.0.2', port: 2222, knownHostsFile: 'k' }], () => text);
  assert.deepEqual(out.trim().split('\n').map((l) => l.split(' ')[0]), ['10.0.0.1', '[10.0.0.2]:2222']);
});

test('a release is the same bytes for the same inputs, and a new version when the inventory (or anything bundled) changes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'release-'));
  const inv = path.join(dir, 'hosts.yml');
  writeFileSync(inv, 'all:\n  hosts:\n    data:\n      backup_scheduler: data\n');
  const input = { root: process.cwd(), playbook: 'playbooks/backup.ts', inventories: [inv], jobs: [{ name: 'rigger-backup', what: 'backup set', schedule: '0 2 * * *', args: ['--scheduled'], notify: 'failure' as const, timeoutSeconds: 7200 }], vault: true, hosts: [] };
  const a = await buildRelease(input);
  const b = await buildRelease(input);
  assert.equal(a.version, b.version);
  assert.match(a.version, /^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
  const spec = JSON.parse(a.files.get('rigger-backup.json')!.toString()) as JobSpec;
  assert.deepEqual(spec.args, ['-i', 'inventory/hosts.yml', '-e', '@runner-vars.yml', '--vault-password-file', '/etc/rigger/runner/vault-password', '--scheduled']);
  assert.ok(!a.files.get('backup.mjs')!.toString().includes(process.cwd()), 'no path of this machine in the bundle');
  writeFileSync(inv, 'all:\n  hosts:\n    data:\n      backup_scheduler: data\n      backup_root: /srv/backup\n');
  assert.notEqual((await buildRelease(input)).version, a.version);
  await assert.rejects(buildRelease({ ...input, inventories: ['inventory/hosts.ts'] }), /cannot load a TypeScript inventory/);
});
