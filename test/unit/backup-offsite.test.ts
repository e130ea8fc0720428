import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay } from '../../lib/index.ts';
import { backupOffsite } from '../../roles/backup/index.ts';
import { runPlays, scratchDir } from '../helpers/run.ts';

// The off-site copy as `backup.ts --offsite` runs it (the backup-offsite
// role on a local host), with this machine's real rclone copying between
// two local directories: the backup root and the "remote". Sets are written
// here as the set script leaves them: item files and a manifest naming them
// with their sizes and checksums.

const ITEMS = [
  { name: 'postgres-pg-vibedb', kind: 'postgres', file: 'postgres-pg-vibedb.dump' },
  { name: 'config-etc', kind: 'config', file: 'config-etc.tar' },
] as const;

function writeSet(root: string, name: string): void {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const items = ITEMS.map((i) => {
    const body = Buffer.from(`${name} ${i.name}\n`.repeat(20));
    writeFileSync(path.join(dir, i.file), body);
    return { ...i, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'), check: 'fixture' };
  });
  const manifest = { format: 1, set: name, created: '2026-11-20T02:00:00+00:00', host: 'data', bytes: items.reduce((n, i) => n + i.bytes, 0), items };
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
}

/** Every file under a set directory with its content: "this set is untouched". */
function setContent(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
}

const sets = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => /^\d{8}_\d{6}$/.test(n)).sort() : []);

interface Fixture {
  root: string;
  remote: string;
  /** Runs the off-site copy with these retention rules (backup_retention) and max_delete. */
  copy: (retention?: Record<string, unknown>, maxDelete?: number) => ReturnType<typeof runPlays>;
}

function fixture(): Fixture {
  const dir = scratchDir();
  const root = path.join(dir, 'backup');
  const remote = path.join(dir, 'offsite');
  mkdirSync(root);
  const copy = (retention: Record<string, unknown> = {}, maxDelete = 5) => {
    const inv = path.join(dir, 'hosts.yml');
    const vars = { ansible_connection: 'local', backup_root: root, backup_offsite: { remote, max_delete: maxDelete }, backup_retention: retention };
    writeFileSync(inv, `all:\n  hosts:\n    data:\n      ${Object.entries(vars).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n      ')}\n`);
    return runPlays(inv, [definePlay({ name: 'backup off-site', hosts: 'data', roles: [backupOffsite] })]);
  };
  return { root, remote, copy };
}

const copyStatus = (o: Awaited<ReturnType<typeof runPlays>>) => o.statuses.get('off-site copy')?.get('data');
const copyMessage = (o: Awaited<ReturnType<typeof runPlays>>) =>
  o.events.flatMap((e) => (e.type === 'task-host' && e.task === 'off-site copy' ? [(e as { msg?: string }).msg ?? ''] : [])).join('\n');

test('item 1: a local manifest that became unreadable does not delete that set on the remote', async () => {
  const f = fixture();
  for (const s of ['20261118_020000', '20261119_020000', '20261120_020000']) writeSet(f.root, s);
  const first = await f.copy();
  assert.equal(copyStatus(first), 'changed', copyMessage(first));
  assert.deepEqual(sets(f.remote), ['20261118_020000', '20261119_020000', '20261120_020000']);
  const good = setContent(path.join(f.remote, '20261119_020000'));

  // The local copy of one set loses its manifest's content (a bad sector, a full disk during a prune).
  truncateSync(path.join(f.root, '20261119_020000', 'manifest.json'), 10);
  const again = await f.copy();
  assert.notEqual(copyStatus(again), 'failed', copyMessage(again));
  assert.deepEqual(sets(f.remote), ['20261118_020000', '20261119_020000', '20261120_020000'], 'no remote set is deleted');
  assert.deepEqual(setContent(path.join(f.remote, '20261119_020000')), good, "the remote's good copy of that set is untouched");
});

test('item 1: a replaced backup disk holding fewer sets deletes no good set on the remote', async () => {
  const f = fixture();
  const older = ['20261116_020000', '20261117_020000', '20261118_020000', '20261119_020000'];
  for (const s of older) writeSet(f.root, s);
  assert.equal(copyStatus(await f.copy()), 'changed');
  const before = Object.fromEntries(older.map((s) => [s, setContent(path.join(f.remote, s))]));

  // The disk is replaced: the new one holds only tonight's set.
  rmSync(f.root, { recursive: true });
  mkdirSync(f.root);
  writeSet(f.root, '20261120_020000');
  const after = await f.copy();
  assert.equal(copyStatus(after), 'changed', copyMessage(after));
  assert.deepEqual(sets(f.remote), [...older, '20261120_020000'], "tonight's set copied, the older ones kept");
  for (const s of older) assert.deepEqual(setContent(path.join(f.remote, s)), before[s], `${s} untouched on the remote`);
});

// Only `last` counts in this rule, or only `daily`: the other counts zero for every kind.
const only = (rule: Record<string, number>) => Object.fromEntries(['postgres', 'gitea', 'volume', 'config'].map((k) => [k, { last: 0, daily: 0, weekly: 0, monthly: 0, ...rule }]));

test('item 1: retention by count deletes a remote set only once a newer set is verified on the remote', async () => {
  const f = fixture();
  // On the remote: an old verified set, and a newer one whose copy never completed (no manifest).
  writeSet(f.remote, '20261110_020000');
  writeSet(f.remote, '20261112_020000');
  rmSync(path.join(f.remote, '20261112_020000', 'manifest.json'));
  // Here: only tonight's set (the disk was replaced since).
  writeSet(f.root, '20261120_020000');

  const first = await f.copy(only({ last: 1 }));
  assert.equal(copyStatus(first), 'changed', copyMessage(first));
  assert.deepEqual(sets(f.remote), ['20261110_020000', '20261112_020000', '20261120_020000'], 'the old set stays until a newer one is verified there');

  // Tonight's set is verified on the remote now: the count rule deletes the older verified set.
  const second = await f.copy(only({ last: 1 }));
  assert.equal(copyStatus(second), 'changed', copyMessage(second));
  assert.deepEqual(sets(f.remote), ['20261112_020000', '20261120_020000'], 'the incomplete set is never counted nor deleted');
});

test('item 1: retention by age follows the remote own sets, one per day, and keeps the newest', async () => {
  const f = fixture();
  const remoteOnly = ['20261101_020000', '20261102_020000', '20261103_020000', '20261103_140000'];
  for (const s of remoteOnly) writeSet(f.remote, s);
  writeSet(f.remote, '20261104_020000');
  writeSet(f.root, '20261104_020000');

  // daily 3: the newest set of each of the three newest days: 11-04, 11-03 14:00, 11-02.
  const o = await f.copy(only({ daily: 3 }));
  assert.equal(copyStatus(o), 'changed', copyMessage(o));
  assert.deepEqual(sets(f.remote), ['20261102_020000', '20261103_140000', '20261104_020000']);
  // A set that is not verified on the remote (its file shorter than its manifest says) is not one the rule can keep.
  writeSet(f.remote, '20261105_020000');
  truncateSync(path.join(f.remote, '20261105_020000', 'config-etc.tar'), 5);
  const again = await f.copy(only({ daily: 1 }));
  assert.equal(copyStatus(again), 'changed', copyMessage(again));
  assert.deepEqual(sets(f.remote), ['20261104_020000', '20261105_020000'], 'the newest verified set is kept; the damaged newer one is left alone');
});

test('item 1: more deletions than max_delete refuse the copy and delete nothing', async () => {
  const f = fixture();
  const old = ['20261101_020000', '20261102_020000', '20261103_020000'];
  for (const s of old) writeSet(f.remote, s);
  writeSet(f.remote, '20261104_020000');
  writeSet(f.root, '20261104_020000');
  const capped = await f.copy(only({ last: 1 }), 2);
  assert.equal(copyStatus(capped), 'failed');
  assert.match(copyMessage(capped), /it would delete 3 sets on .*, more than max_delete 2 \(20261101_020000, 20261102_020000, 20261103_020000\)/);
  assert.deepEqual(sets(f.remote), [...old, '20261104_020000'], 'nothing deleted');
  const raised = await f.copy(only({ last: 1 }), 3);
  assert.equal(copyStatus(raised), 'changed', copyMessage(raised));
  assert.deepEqual(sets(f.remote), ['20261104_020000']);
});
