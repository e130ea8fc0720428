import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupVars } from '../../lib/backup/config.ts';
import { parseSetOutput, setCommand } from '../../lib/backup/set-script.ts';
import { scratchDir } from '../helpers/run.ts';
import { runCli } from '../helpers/cli.ts';

// Where a set may be written: the real set script, run by bash, on real
// directories of this machine, and a real tmpfs mounted on a scratch mount
// point (the tests run as root, as the backup does).

const MARKER = '.rigger-backup-root';
const mounted: string[] = [];
after(() => {
  for (const dir of mounted.reverse()) spawnSync('umount', [dir]);
});

function mount(dir: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
  mounted.push(dir);
}

function umount(dir: string): void {
  execFileSync('umount', [dir]);
  mounted.splice(mounted.indexOf(dir), 1);
}

/** A set of one config item (a small file of this machine) into root, the command run by dash as a host's sh runs it. */
function takeSet(root: string, create = false, env: NodeJS.ProcessEnv = process.env) {
  const dir = scratchDir();
  writeFileSync(path.join(dir, 'sshd_config'), 'Port 222\n'.repeat(20));
  const vars = backupVars.parse({ backup_root: root, backup_root_create: create, backup_min_free_mb: 0, backup_items: [{ kind: 'config', name: 'etc', paths: [path.join(dir, 'sshd_config')] }] });
  const c = setCommand({ vars, items: vars.backup_items });
  const r = spawnSync('dash', ['-c', c.bytes.toString()], { input: c.stdinBytes(), encoding: 'utf8', env });
  return { ...r, outcome: parseSetOutput(r.stdout) };
}

test('item 2: an empty mount point with no disk mounted on it is refused, and nothing is written to it', () => {
  const mnt = path.join(scratchDir(), 'backup');
  mkdirSync(mnt);
  const r = takeSet(mnt);
  assert.notEqual(r.status, 0, r.stdout);
  assert.equal(r.outcome.published, false);
  assert.equal(r.outcome.failure?.item, 'root');
  assert.match(r.outcome.failure!.reason, /is not a mount point and holds no \.rigger-backup-root.*is the backup disk mounted/);
  assert.deepEqual(readdirSync(mnt), [], 'not a set, not a lock, not a marker');
});

test('item 2: a mounted disk takes the set and is marked on first use; unmounted again, its mount point is refused', () => {
  const mnt = path.join(scratchDir(), 'backup');
  mkdirSync(mnt);
  mount(mnt);
  const first = takeSet(mnt);
  assert.equal(first.status, 0, first.stderr + first.stdout);
  assert.equal(first.outcome.published, true);
  assert.ok(existsSync(path.join(mnt, first.outcome.set!, 'manifest.json')));
  assert.ok(existsSync(path.join(mnt, MARKER)), 'the marker is written on the disk');

  umount(mnt);
  const unmounted = takeSet(mnt);
  assert.notEqual(unmounted.status, 0);
  assert.equal(unmounted.outcome.failure?.item, 'root');
  assert.deepEqual(readdirSync(mnt), [], 'the root file system under the mount point is untouched');
});

test('item 2: a directory on a mounted disk is taken once it holds the marker', () => {
  const mnt = path.join(scratchDir(), 'volume1');
  mkdirSync(mnt);
  mount(mnt);
  const root = path.join(mnt, 'backup');
  mkdirSync(root);
  const unmarked = takeSet(root);
  assert.equal(unmarked.outcome.failure?.item, 'root', 'a plain directory is not known to be the disk');
  assert.deepEqual(readdirSync(root), []);
  writeFileSync(path.join(root, MARKER), '');
  const marked = takeSet(root);
  assert.equal(marked.status, 0, marked.stderr + marked.stdout);
  assert.equal(marked.outcome.published, true);
});

test('item 2: with backup_root_create a plain directory is taken and marked', () => {
  const root = path.join(scratchDir(), 'backup');
  mkdirSync(root);
  const r = takeSet(root, true);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.equal(r.outcome.published, true);
  assert.ok(existsSync(path.join(root, MARKER)));
});

test("item 2: on a host without util-linux's mountpoint, the file systems' device numbers tell a mount point", () => {
  // This machine's programs, all but mountpoint.
  const bin = path.join(scratchDir(), 'bin');
  mkdirSync(bin);
  for (const name of readdirSync('/usr/bin')) if (name !== 'mountpoint') symlinkSync(path.join('/usr/bin', name), path.join(bin, name));
  const env = { ...process.env, PATH: `${bin}:/usr/sbin` };
  assert.notEqual(spawnSync('sh', ['-c', 'command -v mountpoint'], { env }).status, 0, 'no mountpoint on this PATH');
  const mnt = path.join(scratchDir(), 'backup');
  mkdirSync(mnt);
  const empty = takeSet(mnt, false, env);
  assert.equal(empty.outcome.failure?.item, 'root', empty.stderr + empty.stdout);
  assert.deepEqual(readdirSync(mnt), []);
  mount(mnt);
  const disk = takeSet(mnt, false, env);
  assert.equal(disk.status, 0, disk.stderr + disk.stdout);
  assert.equal(disk.outcome.published, true);
});

const NO_ENGINE = `unix://${path.join(scratchDir(), 'no-docker.sock')}`;

/** The real backup playbook (roles/backup: the set, retention and the run log in `always`) on this machine over the local connection. */
async function backupPlaybook(root: string, items: unknown[] = []) {
  const dir = scratchDir();
  writeFileSync(path.join(dir, 'sshd_config'), 'Port 222\n');
  const inventory = path.join(dir, 'hosts.yml');
  const vars = { ansible_connection: 'local', backup_root: root, backup_root_create: false, backup_min_free_mb: 0, backup_items: [{ kind: 'config', name: 'etc', paths: [path.join(dir, 'sshd_config')] }, ...items] };
  writeFileSync(inventory, JSON.stringify({ all: { hosts: { here: vars } } }));
  // A host with no Docker engine (a socket nobody listens on): a set of files needs none.
  return runCli(['playbooks/backup.ts', '-i', inventory], { DOCKER_HOST: NO_ENGINE });
}

test('review item 2: the backup playbook refused on an unmounted disk writes nothing under its mount point, not even the run log', async () => {
  const mnt = path.join(scratchDir(), 'backup');
  mkdirSync(mnt);
  const refused = await backupPlaybook(mnt);
  assert.notEqual(refused.code, 0, refused.stdout + refused.stderr);
  assert.match(refused.stdout + refused.stderr, /is not a mount point and holds no \.rigger-backup-root/);
  assert.deepEqual(readdirSync(mnt), [], 'no set, no marker, no .rigger/runs.log on the file system below the mount point');

  // The same run with the disk mounted writes the set and logs the run on the disk.
  mount(mnt);
  const taken = await backupPlaybook(mnt);
  assert.equal(taken.code, 0, taken.stdout + taken.stderr);
  assert.ok(existsSync(path.join(mnt, '.rigger', 'runs.log')), 'the run log is on the disk');
});

test('a set of files needs no Docker engine; a set with a volume on a host whose engine does not answer is refused before anything is written', async () => {
  const mnt = path.join(scratchDir(), 'backup');
  mkdirSync(mnt);
  mount(mnt);
  const files = await backupPlaybook(mnt);
  assert.equal(files.code, 0, files.stdout + files.stderr);
  const volume = await backupPlaybook(mnt, [{ kind: 'volume', volume: 'app_data' }]);
  assert.notEqual(volume.code, 0, volume.stdout + volume.stderr);
  assert.match(volume.stdout + volume.stderr, /the Docker engine does not answer/);
});
