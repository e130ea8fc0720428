import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupVars } from '../../lib/backup/config.ts';
import type { Listing, SetInfo } from '../../lib/backup/listing.ts';
import { parseSetOutput, setCommand } from '../../lib/backup/set-script.ts';
import { localSource } from '../../lib/recovery/ops/source.ts';
import { restoreConfigCommand } from '../../lib/recovery/restore-script.ts';
import { scratchDir } from '../helpers/run.ts';

// Recovery over several backup hosts: each picks its own set; and the config
// items that a recovery now puts back, run by bash on this machine.

const published = (name: string): SetInfo => ({ name, state: 'published', sizeKb: 1, manifest: { format: 1, set: name, created: '', host: 'h', bytes: 1, items: [] } });
const listing = (...sets: SetInfo[]): Listing => ({ rootExists: true, sets, log: [], availKb: 1 });
const chosen = (set: string, nearSeconds: number, l: Listing) => {
  const d = localSource({ root: '/srv/backup', set, nearSeconds }).decide({ listing: l } as never);
  return d.kind === 'ok' ? (d.result as { set: string }).set : `fail: ${(d as { reason: string }).reason}`;
};

test("each backup host recovers from its own newest published set; a named set means each host's set of the same run", () => {
  const gateway = listing(published('20261120_020003'), published('20261121_015958'), published('20261121_020004'), { name: '20261122_020001', state: 'partial', sizeKb: 1 });
  assert.equal(chosen('latest', 600, gateway), '20261121_020004', 'a partial set is never the latest');
  // The data node's set of the night of the 21st is 20261121_020000: the gateway's nearest, seconds before or after.
  assert.equal(chosen('20261121_020000', 600, gateway), '20261121_015958');
  assert.equal(chosen('20261121_020003', 600, gateway), '20261121_020004');
  assert.equal(chosen('20261120_020003', 600, gateway), '20261120_020003', 'its own name is exact');
  assert.match(chosen('20261119_020000', 600, gateway), /^fail: no set 20261119_020000/, 'no set of that run on this host');
  // One backup host: the name is exact, as before.
  assert.match(chosen('20261121_020000', 0, gateway), /^fail: no set 20261121_020000/);
});

test('a config item tars its paths and the present optional ones, lists the absent ones, and comes back in place', () => {
  const dir = scratchDir();
  const root = path.join(dir, 'backup');
  mkdirSync(root);
  mkdirSync(path.join(dir, 'etc/nginx/conf.d'), { recursive: true });
  writeFileSync(path.join(dir, 'etc/nginx/conf.d/vibe.conf'), 'server { listen 8080; }\n');
  writeFileSync(path.join(dir, 'sshd_config'), 'Port 222\n');
  const vars = backupVars.parse({
    backup_root: root,
    backup_root_create: true,
    backup_min_free_mb: 0,
    backup_items: [{ kind: 'config', name: 'etc', paths: [path.join(dir, 'sshd_config')], paths_if_present: [path.join(dir, 'etc/nginx'), path.join(dir, 'opt/sglang')] }],
  });
  const c = setCommand({ vars, items: vars.backup_items });
  const r = spawnSync('sh', ['-c', c.bytes.toString()], { input: c.stdinBytes(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const set = parseSetOutput(r.stdout).set!;
  const manifest = JSON.parse(readFileSync(path.join(root, set, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.items[0].absent, [path.join(dir, 'opt/sglang')]);
  assert.equal(manifest.items[0].files, 4, 'the members: sshd_config, nginx/, conf.d/, vibe.conf');

  // Put back in place: the damaged file is the set's again.
  writeFileSync(path.join(dir, 'etc/nginx/conf.d/vibe.conf'), 'damaged\n');
  const back = spawnSync('sh', ['-c', restoreConfigCommand(path.join(root, set, 'config-etc.tar')).bytes.toString()], { encoding: 'utf8' });
  assert.equal(back.status, 0, back.stderr);
  assert.equal(back.stdout.trim(), '2', 'two files put back');
  assert.equal(readFileSync(path.join(dir, 'etc/nginx/conf.d/vibe.conf'), 'utf8'), 'server { listen 8080; }\n');

  // A path that must be there and is not fails the set, naming the item.
  const missing = backupVars.parse({ ...vars, backup_items: [{ kind: 'config', name: 'etc', paths: [path.join(dir, 'nope')] }] });
  const m = setCommand({ vars: missing, items: missing.backup_items });
  const f = spawnSync('sh', ['-c', m.bytes.toString()], { input: m.stdinBytes(), encoding: 'utf8' });
  assert.notEqual(f.status, 0);
  assert.equal(parseSetOutput(f.stdout).failure?.item, 'config-etc');
});
