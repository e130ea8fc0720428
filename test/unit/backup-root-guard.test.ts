// A copy and an off-site fetch write into a backup root only once it passes
// a set's own check (lib/backup/root-check.ts): the NAS's /volume1 not
// mounted leaves /volume1/backup an empty directory (or no directory) on
// the system partition, and `mkdir -p` of a copy's whole path would fill
// it. Run over the local connection (real bash, real tar, real files); a
// tmp directory is never a mount point, so it stands for the unmounted root.
// PITR's staging on the database's host (homelab.yml: under the NAS's root) too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { definePlay } from '../../lib/index.ts';
import { pullSet } from '../../lib/backup/ops/pull-set.ts';
import { offsiteFetch } from '../../lib/recovery/ops/offsite-fetch.ts';
import { ROOT_MARKER } from '../../lib/backup/root-check.ts';
import { pitrConfig } from '../../lib/pitr/config.ts';
import { pitrStage, stagingDirOf } from '../../lib/pitr/ops/stage.ts';
import { localInventory, runPlays } from '../helpers/run.ts';

const SET = '20261207_020000';

/** A published set on the source: one item and its manifest. */
function sourceSet(work: string): string {
  const set = path.join(work, 'src', SET);
  mkdirSync(set, { recursive: true });
  const data = randomBytes(3000);
  writeFileSync(path.join(set, 'volume-a.tar'), data);
  const items = [{ name: 'volume-a', kind: 'volume', file: 'volume-a.tar', bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), check: 'tar' }];
  writeFileSync(path.join(set, 'manifest.json'), JSON.stringify({ format: 1, set: SET, created: '', host: 'src', bytes: 0, items }) + '\n');
  return set;
}

async function pull(set: string, root: string, rootCreate: boolean) {
  const dir = path.join(root, 'copies', 'src', SET);
  const play = definePlay({ name: 'pull', hosts: 'dst', tasks: ({ task }) => [task({ name: 'pull set', op: pullSet({ from: 'src', source: set, dir, root, rootCreate }) })] });
  const o = await runPlays(localInventory(['src', 'dst']), [play]);
  return { dir, e: o.events.find((x) => x.type === 'task-host' && x.task === 'pull set') as { status: string; msg?: string } };
}

test('a copy into an unmarked root that is not a mount point is refused with the set\'s message; nothing is made there', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-root-guard-'));
  const set = sourceSet(work);
  const root = path.join(work, 'volume1', 'backup');
  mkdirSync(root, { recursive: true });
  const { e } = await pull(set, root, false);
  assert.equal(e.status, 'failed', e.msg);
  assert.match(e.msg ?? '', new RegExp(`backup root ${root} is not a mount point and holds no \\${ROOT_MARKER}`));
  assert.deepEqual(readdirSync(root), [], 'no copies/ directory, no marker on the system partition');
});

test('a copy into a root that does not exist (backup_root_create false) is refused; the root is not made', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-root-guard-'));
  const set = sourceSet(work);
  const root = path.join(work, 'volume1', 'backup');
  const { e } = await pull(set, root, false);
  assert.equal(e.status, 'failed', e.msg);
  assert.match(e.msg ?? '', /does not exist \(is the backup disk mounted\?\)/);
  assert.equal(existsSync(path.join(work, 'volume1')), false, 'not even the root\'s parent');
});

test('a marked root takes the copy; with backup_root_create a missing root is made and marked', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-root-guard-'));
  const set = sourceSet(work);
  const marked = path.join(work, 'marked');
  mkdirSync(marked);
  writeFileSync(path.join(marked, ROOT_MARKER), 'by hand\n');
  const a = await pull(set, marked, false);
  assert.equal(a.e.status, 'changed', a.e.msg);
  assert.deepEqual(readFileSync(path.join(a.dir, 'volume-a.tar')), readFileSync(path.join(set, 'volume-a.tar')));
  const made = path.join(work, 'made', 'backup');
  const b = await pull(set, made, true);
  assert.equal(b.e.status, 'changed', b.e.msg);
  assert.ok(existsSync(path.join(made, ROOT_MARKER)), 'the made root is marked like a set\'s');
  assert.ok(existsSync(path.join(b.dir, 'manifest.json')));
});

test('a copy to a directory outside the given root fails before anything runs', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-root-guard-'));
  const set = sourceSet(work);
  const play = definePlay({ name: 'pull', hosts: 'dst', tasks: ({ task }) => [task({ name: 'pull set', op: pullSet({ from: 'src', source: set, dir: path.join(work, 'elsewhere', SET), root: path.join(work, 'root'), rootCreate: true }) })] });
  const o = await runPlays(localInventory(['src', 'dst']), [play]);
  const e = o.events.find((x) => x.type === 'task-host' && x.task === 'pull set') as { status: string; msg?: string };
  assert.equal(e.status, 'failed', e.msg);
  assert.match(e.msg ?? '', /is not under the backup root/);
  assert.equal(existsSync(path.join(work, 'root')), false);
  assert.equal(existsSync(path.join(work, 'elsewhere')), false);
});

test('an off-site fetch into an unmarked root that is not a mount point is refused before rclone runs; nothing is made there', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-root-guard-'));
  const root = path.join(work, 'volume1', 'backup');
  mkdirSync(root, { recursive: true });
  // A remote rclone could never reach: the refusal must come first, from the root.
  const access = { runner: { how: 'package' as const }, remote: 'nowhere:rigger', remoteMounts: [] };
  const play = definePlay({ name: 'fetch', hosts: 'nas', tasks: ({ task }) => [task({ name: 'fetch', op: offsiteFetch({ root, rootCreate: false, access, host: 'gw.vibe.local', set: 'latest' }) })] });
  const o = await runPlays(localInventory(['nas']), [play]);
  const e = o.events.find((x) => x.type === 'task-host' && x.task === 'fetch') as { status: string; msg?: string };
  assert.equal(e.status, 'failed', e.msg);
  assert.match(e.msg ?? '', new RegExp(`backup root ${root} is not a mount point and holds no \\${ROOT_MARKER}`));
  assert.deepEqual(readdirSync(root), []);
});

test('PITR staging under the database host\'s backup root is refused there when the root is neither mounted nor marked; nothing is made', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-root-guard-'));
  const root = path.join(work, 'volume1', 'backup');
  mkdirSync(root, { recursive: true });
  const config = pitrConfig.parse({ database_host: 'db', archive_host: 'arc', archive_dir: path.join(work, 'archive'), password: 'x' });
  const dir = stagingDirOf(path.join(root, 'pitr-staging'), '20261207_020000');
  const op = pitrStage({ config, base: '20261207_020000', startWal: '000000010000000000000010', dir, backupRoot: { root, create: false } });
  const play = definePlay({ name: 'stage', hosts: 'db', tasks: ({ task }) => [task({ name: 'stage', op })] });
  const o = await runPlays(localInventory(['db', 'arc']), [play]);
  const e = o.events.find((x) => x.type === 'task-host' && x.task === 'stage') as { status: string; msg?: string };
  assert.equal(e.status, 'failed', e.msg);
  assert.match(e.msg ?? '', new RegExp(`backup root ${root} is not a mount point and holds no \\${ROOT_MARKER}`));
  assert.deepEqual(readdirSync(root), [], 'no pitr-staging on the system partition');
});
