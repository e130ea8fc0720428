import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupVars } from '../../lib/backup/config.ts';
import { offsiteTarget } from '../../lib/backup/offsite-target.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { sh } from '../../lib/shell/command.ts';
import { HOMELAB_VAULT_PASSWORD, REHEARSAL_INVENTORY } from '../../scripts/lab/rehearsal.ts';
import { filesHolding, filesUnder } from '../helpers/offsite-sets.ts';
import { onNode } from '../helpers/node.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';
import { scratchDir } from '../helpers/run.ts';

// Issue 30, acceptance 2: the off-site copy from the DSM stand-in (no apt)
// runs rclone from the inventory's image (backup_rclone_image, through the
// NAS's Docker) to the lab remote (rclone serve sftp, the stand-in for B2),
// encrypted with homelab.yml's crypt keys: the remote holds no file whose
// bytes contain a marker written into a file of a backed-up volume, whose
// set's tar item (uncompressed) does hold it, so the check can fail. The
// remote is read over sftp by this machine's rclone with the inventory's own
// rclone config (what anyone with the B2 credentials but not the keys sees),
// then through the crypt remote with the keys: the sets are there, whole.

const HOST = 'data.vibe.local';
/** A volume item of the NAS in homelab.yml: its set holds volume-data_redmine_files.tar. */
const VOLUME = 'data_redmine_files';
const MARKER_FILE = 'rigger-offsite-marker.txt';
const marker = `OFFSITE-MARKER-${randomUUID()}`;
let inv: string;

const volumeDir = sh`mp="$(docker volume inspect -f '{{.Mountpoint}}' ${VOLUME})"`;

before(async () => {
  inv = await convergedRehearsal();
});

after(async () => {
  // The rehearsal as it was: the marker file gone from the volume (the sets and the remote keep theirs).
  if (inv) await onNode(inv, 'data', sh`${volumeDir} && rm -f -- "$mp"/${MARKER_FILE}`);
});

test('the off-site copy from the DSM stand-in runs rclone without apt, to the lab remote, encrypted: no remote file holds a marker its tar item holds', async () => {
  const reh = await loadInventories([REHEARSAL_INVENTORY], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const vars = backupVars.parse(Object.fromEntries([...reh.varsFor(HOST)].map(([k, v]) => [k, v.value])));
  const offsite = vars.backup_offsite!;
  assert.ok(vars.backup_offsite_crypt_password && vars.backup_offsite_crypt_salt, 'the rehearsal keeps homelab.yml crypt keys');
  assert.notEqual((await onNode(inv, 'data', sh`command -v apt-get || command -v dpkg`)).code, 0, 'the NAS stand-in has no apt');

  // A file written into a backed-up volume, then a set.
  const wrote = await onNode(inv, 'data', sh`${volumeDir} && printf '%s\\n' ${marker} > "$mp"/${MARKER_FILE}`);
  assert.equal(wrote.code, 0, wrote.stderr);
  const set = await onRehearsal('playbooks/backup.ts');
  assert.equal(set.code, 0, `${set.stdout}\n${set.stderr}`);
  const latest = (await onNode(inv, 'data', sh`ls -- ${vars.backup_root} | grep -E '^[0-9]{8}_[0-9]{6}$' | tail -n 1`)).stdout.trim();
  assert.match(latest, /^\d{8}_\d{6}$/);
  const tar = `${vars.backup_root}/${latest}/volume-${VOLUME}.tar`;
  assert.equal((await onNode(inv, 'data', sh`grep -qF -- ${marker} ${tar}`)).code, 0, `the set's tar item holds the marker's bytes as written (${tar}): the check below can fail`);

  // The off-site copy, from the NAS, with the image through its Docker.
  const copy = await onRehearsal('playbooks/backup.ts', ['--offsite', '--json']);
  assert.equal(copy.code, 0, `${copy.stdout}\n${copy.stderr}`);
  const events = copy.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; task?: string; host?: string; status?: string; msg?: string });
  const on = (task: string) => events.find((e) => e.type === 'task-host' && e.task === task && e.host === HOST);
  assert.notEqual(on('rclone installed')?.status, 'failed', JSON.stringify(on('rclone installed')));
  assert.match(on('off-site copy')?.msg ?? '', /verified sets to rigger-offsite-crypt:/, 'the copy went through the crypt remote');
  assert.equal((await onNode(inv, 'data', sh`docker image inspect -- ${vars.backup_rclone_image} >/dev/null`)).code, 0, `rclone ran from ${vars.backup_rclone_image} on the NAS`);

  // What the remote holds, as its sftp login reads it: files, none with the marker, no set or item name.
  const dir = scratchDir();
  const config = path.join(dir, 'rclone.conf');
  const target = offsiteTarget(offsite, vars.backup_offsite_crypt_password, vars.backup_offsite_crypt_salt, config);
  assert.ok(!('problem' in target));
  writeFileSync(config, target.content!.reveal(), { mode: 0o600 });
  const raw = path.join(dir, 'remote');
  mkdirSync(raw);
  execFileSync('rclone', ['--config', config, 'copy', offsite.remote, raw], { stdio: 'pipe' });
  assert.ok(filesUnder(raw).length > 0, 'the remote holds the copy');
  assert.deepEqual(filesHolding(raw, [marker, latest, `volume-${VOLUME}`, 'manifest.json', 'copies']), [], 'no remote file holds the marker, and no path names a set or an item');

  // With the keys, the same files are the sets: the newest one whole, its tar item with the marker.
  const listed = execFileSync('rclone', ['--config', config, 'lsf', '-R', '--files-only', target.remote], { encoding: 'utf8' });
  assert.ok(listed.split('\n').includes(`${latest}/manifest.json`), listed);
  const item = execFileSync('rclone', ['--config', config, 'cat', `${target.remote}${latest}/volume-${VOLUME}.tar`], { maxBuffer: 1 << 30 });
  assert.ok(item.includes(Buffer.from(marker)), 'decrypted, the tar item is the one the NAS wrote');
});
