import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { writeSet } from '../helpers/offsite-sets.ts';
import { scratchDir } from '../helpers/run.ts';

// `backup.ts --offsite` names the backup hosts whose sets reach no remote:
// the NAS's own sets and the copies it holds go off site; a host whose copy
// host has no remote does not. Three local hosts, this machine's rclone.

test('the --offsite report names the hosts whose sets reach no remote', async () => {
  const dir = scratchDir();
  const root = (h: string) => path.join(dir, h);
  for (const h of ['nas', 'gw', 'ai']) mkdirSync(root(h));
  writeSet(root('nas'), '20261120_020000', 'not-secret');
  const items = JSON.stringify([{ kind: 'volume', volume: 'files' }]);
  const host = (h: string, extra: string[] = []) => [`    ${h}:`, `      backup_root: ${root(h)}`, `      backup_items: ${items}`, ...extra.map((l) => `      ${l}`)];
  const inventory = path.join(dir, 'hosts.yml');
  const write = (aiCopyTo: string | undefined) =>
    writeFileSync(
      inventory,
      [
        'all:',
        '  vars:',
        '    ansible_connection: local',
        '  hosts:',
        ...host('nas', [`backup_offsite: ${JSON.stringify({ remote: path.join(dir, 'remote') })}`, `backup_rclone_config: ${path.join(dir, 'rclone.conf')}`]),
        ...host('gw'),
        ...host('ai', aiCopyTo ? [`backup_copy_to: ${aiCopyTo}`] : []),
      ].join('\n') + '\n',
    );

  write('gw');
  const one = await runCli(['playbooks/backup.ts', '-i', inventory, '--offsite'], {}, 120_000);
  assert.equal(one.code, 0, `${one.stdout}\n${one.stderr}`);
  assert.match(one.stdout, /^nas: copy 1 verified sets to /m);
  assert.match(one.stdout, /^not off-site: ai \(its sets reach no host with backup_offsite/m, 'ai copies to gw, which has no remote');

  write(undefined);
  const all = await runCli(['playbooks/backup.ts', '-i', inventory, '--offsite'], {}, 120_000);
  assert.equal(all.code, 0, `${all.stdout}\n${all.stderr}`);
  assert.match(all.stdout, /^every backup host's sets reach the remote/m, 'by default every other host copies to the host with the remote');
  assert.doesNotMatch(all.stdout, /not off-site/);
});

test('--from-offsite takes the operators inventory, where only the NAS has a remote; an inventory with none is refused', async () => {
  const env = { RIGGER_VAULT_PASSWORD: 'homelab-example' };
  const r = await runCli(['playbooks/disaster-recovery.ts', '-i', 'inventory/homelab.yml', '--from', 'latest', '--from-offsite', '--list-hosts'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /PLAY \[recovery: verify\] \(4 hosts\)\ngateway\.vibe\.local\nai\.vibe\.local\ndata\.vibe\.local\ncicd\.vibe\.local\n/);

  const dir = scratchDir();
  const inventory = path.join(dir, 'hosts.yml');
  writeFileSync(inventory, `all:\n  vars:\n    ansible_connection: local\n  hosts:\n    solo:\n      backup_root: ${dir}\n      backup_items: [{ kind: volume, volume: files }]\n`);
  const none = await runCli(['playbooks/disaster-recovery.ts', '-i', inventory, '--from', 'latest', '--from-offsite', '--list-hosts']);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /--from-offsite needs backup_offsite on a backup host \(solo\)/);
});
