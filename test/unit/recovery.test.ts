import { test } from 'node:test';
import assert from 'node:assert/strict';
import { swarmVerdict } from '../../lib/ops/recovery/swarm.ts';
import { stack } from '../../lib/ops/docker/stack.ts';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nextMarker, parseMarker, resuming } from '../../lib/recovery/marker.ts';
import { phaseTimings, recoveryReportText } from '../../lib/recovery/report.ts';
import { countFilesIn, parseCounts, restoreDatabaseCommand, restoreVolumeCommand } from '../../lib/recovery/restore-script.ts';
import { scratchDir } from '../helpers/run.ts';
import { Secret } from '../../lib/core/secret.ts';

const swarm = (over: Partial<Parameters<typeof swarmVerdict>[0]>) =>
  swarmVerdict({ installed: true, running: true, state: 'inactive', nodeId: '', nodeAddr: '', isManager: false, clusterId: 'c0ffee1234567890', managers: 0, nodes: 0, error: '', leader: false, ...over });

test('the swarm after a disaster: kept with a leader, forced new from a manager without one, fresh without state', () => {
  assert.equal(swarm({ state: 'active', isManager: true, leader: true }).action, 'keep');
  const forced = swarm({ state: 'active', isManager: true, leader: false });
  assert.equal(forced.action, 'force');
  assert.match(forced.why, /without a leader: this manager holds the cluster's state/);
  assert.equal(swarm({ state: 'error', error: 'context deadline exceeded' }).action, 'force');
  assert.equal(swarm({ state: 'inactive' }).action, 'fresh');
  assert.equal(swarm({ installed: false, running: false }).action, 'fresh', 'check mode before the docker phase');
  assert.equal(swarm({ running: false }).action, 'fail');
  assert.match(swarm({ state: 'locked' }).why, /docker swarm unlock/);
  assert.equal(swarm({ state: 'active', isManager: false }).action, 'fail');
});

test('a recovery resumes only the unfinished recovery of the same set', () => {
  const m = parseMarker('{"set":"20261122_020000","started":"2026-11-22T03:00:00Z","restored":"2026-11-22T03:02:00Z"}');
  assert.ok(resuming(m, '20261122_020000'));
  assert.ok(!resuming(m, '20261121_020000'), 'another set is a new recovery');
  assert.ok(!resuming({ ...m!, completed: 'x' }, '20261122_020000'), 'a finished recovery is not resumed');
  assert.equal(parseMarker('{torn'), undefined);
  assert.equal(parseMarker(''), undefined);
});

test('phase durations run from each phase\'s first play to the next phase; the report names every phase and the total', () => {
  const t = phaseTimings(
    [
      { phase: 'verify', at: 0 },
      { phase: 'docker', at: 2000 },
      { phase: 'docker', at: 30000 },
      { phase: 'swarm', at: 41000 },
    ],
    50000,
  );
  assert.deepEqual(t, [
    { phase: 'verify', seconds: 2 },
    { phase: 'docker', seconds: 39 },
    { phase: 'swarm', seconds: 9 },
  ]);
  const text = recoveryReportText({ set: '20261122_020000', timings: t, totalSeconds: 50.2, databases: [{ database: 'vibedb', tables: { 'public.notes': 3, 'public.tags': 2 } }], volumes: [{ volume: 'v', files: 4 }], unhealthy: [], check: false });
  assert.match(text, /^total\s+50\.2$/m);
  assert.match(text, /vibedb: 2 tables, 5 rows \(public\.notes 3, public\.tags 2\)/);
  assert.match(text, /v: 4 files/);
});

test('the database restore drops and re-creates, restores in one transaction, keeps the password on stdin', () => {
  const c = restoreDatabaseCommand({ service: 'lab_postgres', database: 'vibedb', user: 'postgres', host: '127.0.0.1', password: new Secret('pw-canary-77') }, '/volume1/backup/s/x.dump');
  const text = c.bytes.toString();
  assert.ok(!text.includes('pw-canary-77'));
  assert.equal(c.stdinBytes().toString(), 'pw-canary-77\n');
  assert.match(text, /DROP DATABASE IF EXISTS "vibedb" WITH \(FORCE\)/);
  assert.match(text, /--single-transaction/);
  assert.deepEqual(parseCounts('public.notes 1000\npublic.tags 37\nnoise\n'), { 'public.notes': 1000, 'public.tags': 37 });
});

test('a stack op can deploy some services of a file alone (the database first)', () => {
  const compose = 'version: "3.8"\nservices:\n  postgres:\n    image: pg\n  web:\n    image: web\n';
  const op = stack({ name: 'lab', compose, services: ['postgres'] });
  assert.deepEqual(op.problems, []);
  assert.match(op.describe(), /1 services/);
  const bad = stack({ name: 'lab', compose, services: ['nope'] });
  assert.match(bad.problems[0]!.message, /has no service nope/);
});

test("recovery.json keeps this recovery's start and restore times, not the completion time nor an earlier recovery's", () => {
  // An earlier recovery of the same set, finished: its times must not leak into this one.
  const earlier = { set: 'S', started: 't0', restored: 't1', completed: 't2' };
  const started = nextMarker(earlier, 'S', 'started', 't10');
  assert.deepEqual(started, { set: 'S', started: 't10' });
  const restored = nextMarker(started, 'S', 'restored', 't20');
  assert.deepEqual(restored, { set: 'S', started: 't10', restored: 't20' });
  assert.deepEqual(nextMarker(restored, 'S', 'completed', 't30'), { set: 'S', started: 't10', restored: 't20', completed: 't30' });
  // Resumed after a kill between restore and completion: both earlier times of this recovery stay.
  assert.deepEqual(nextMarker({ set: 'S', started: 't10', restored: 't20' }, 'S', 'completed', 't99'), { set: 'S', started: 't10', restored: 't20', completed: 't99' });
  // Another set's unfinished marker is not this recovery's.
  assert.deepEqual(nextMarker({ set: 'OTHER', started: 't5' }, 'S', 'restored', 't20'), { set: 'S', started: 't20', restored: 't20' });
});

test('the restored file count holds names with spaces and newlines as one file each; links and empty directories are not files', () => {
  const dir = scratchDir();
  writeFileSync(path.join(dir, 'plain'), 'a');
  writeFileSync(path.join(dir, 'with space'), 'b');
  writeFileSync(path.join(dir, 'with\nnewline'), 'c');
  mkdirSync(path.join(dir, 'empty dir'));
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'sub', 'nested\n\nname'), 'd');
  symlinkSync('plain', path.join(dir, 'link'));
  const r = spawnSync('sh', ['-c', countFilesIn('"$1"'), 'sh', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(Number(r.stdout.trim()), 4);
  // The same count inside the restore commands, quoting and all.
  assert.ok(restoreVolumeCommand('v', '/f', 'img').toString().includes(countFilesIn('/volume')));
});

test("a database restored for an application is owned by the application's role, its objects too", () => {
  const owned = restoreDatabaseCommand({ service: 'gateway_postgres', database: 'giteadb', user: 'vibe', host: '127.0.0.1', owner: 'gitea' }, '/b/s/x.dump').bytes.toString();
  assert.match(owned, /CREATE DATABASE "giteadb" OWNER "gitea"/);
  assert.match(owned, /pg_restore [^\n]*--no-privileges \S*--role=gitea\S* --exit-on-error/);
  const plain = restoreDatabaseCommand({ service: 'lab_postgres', database: 'vibedb', user: 'postgres', host: '127.0.0.1' }, '/b/s/x.dump').bytes.toString();
  assert.doesNotMatch(plain, /OWNER|--role/);
});
