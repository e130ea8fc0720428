// pitrStage over the local connection (the archive host and the database's
// host are this machine, two inventory hosts): what a recovery needs arrives
// whole in the staging directory, the rest of the archive stays behind, and
// a transfer cut short leaves no staging directory to be taken as whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { definePlay } from '../../lib/index.ts';
import { pitrStage } from '../../lib/pitr/ops/stage.ts';
import { localInventory, runPlays } from '../helpers/run.ts';

const BASE = '20261207_020000';
const START = '000000010000000000000003';

function archive(work: string): string {
  const dir = path.join(work, 'archive');
  mkdirSync(path.join(dir, 'base', BASE), { recursive: true });
  mkdirSync(path.join(dir, 'wal'));
  writeFileSync(path.join(dir, 'base', BASE, 'base.tar.gz'), randomBytes(5000));
  writeFileSync(path.join(dir, 'base', BASE, 'info'), `start_wal ${START}\nend_time 2026-12-07T02:00:05Z\n`);
  for (const name of ['000000010000000000000002', START, '000000010000000000000004', '000000010000000000000005.partial', '00000002.history', '000000010000000000000001.partial']) {
    writeFileSync(path.join(dir, 'wal', name), randomBytes(3000));
  }
  return dir;
}

const config = (dir: string) => ({ database_host: 'db', archive_host: 'arch', archive_dir: dir, password: 'x' });
const stagePlay = (dir: string, into: string) =>
  definePlay({ name: 'stage', hosts: 'db', tasks: ({ task }) => [task({ name: 'stage', op: pitrStage({ config: config(dir), base: BASE, startWal: START, dir: into }) })] });
const outcome = (o: Awaited<ReturnType<typeof runPlays>>) => o.events.find((x) => x.type === 'task-host' && x.task === 'stage') as { status: string; msg?: string };

test('the base backup and the WAL from its start segment on (the .partial and .history too) arrive byte for byte; older WAL stays behind', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-pitr-stage-'));
  const dir = archive(work);
  const into = path.join(work, 'db', 'pitr-staged-' + BASE);
  const o = await runPlays(localInventory(['arch', 'db']), [stagePlay(dir, into)]);
  const e = outcome(o);
  assert.notEqual(e.status, 'failed', e.msg);
  assert.deepEqual(readdirSync(path.join(into, 'wal')).sort(), [START, '000000010000000000000004', '000000010000000000000005.partial', '00000002.history']);
  for (const f of [`base/${BASE}/base.tar.gz`, `base/${BASE}/info`, ...readdirSync(path.join(into, 'wal')).map((n) => `wal/${n}`)]) {
    assert.deepEqual(readFileSync(path.join(into, f)), readFileSync(path.join(dir, f)), f);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['base', 'wal'], 'the outgoing links removed from the archive host');
  assert.ok(!existsSync(`${into}.partial`));
});

test('a WAL segment that shrinks mid-transfer fails the staging; no staging directory (nor its .partial) is left', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-pitr-stage-'));
  const dir = archive(work);
  const big = path.join(dir, 'wal', '000000010000000000000004');
  execFileSync('truncate', ['-s', '256M', big]);
  const into = path.join(work, 'db', 'pitr-staged-' + BASE);
  const run = runPlays(localInventory(['arch', 'db']), [stagePlay(dir, into)]);
  while (!existsSync(path.join(`${into}.partial`, 'wal', START))) await sleep(10);
  truncateSync(big, 1000);
  const e = outcome(await run);
  assert.equal(e.status, 'failed', e.msg);
  assert.match(e.msg ?? '', /File shrank|ended after \d+ of its \d+ bytes|did not verify/);
  assert.deepEqual(readdirSync(path.dirname(into)), [], 'neither the staging directory nor its .partial');
  assert.deepEqual(readdirSync(dir).sort(), ['base', 'wal'], 'the outgoing links removed after the failure too');
});
