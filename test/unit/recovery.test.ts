import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { swarmVerdict } from '../../lib/recovery/ops/swarm.ts';
import { stack } from '../../lib/ops/docker/stack.ts';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { nextMarker, parseMarker, resuming } from '../../lib/recovery/marker.ts';
import { phaseTimings, recoveryReportText } from '../../lib/recovery/report.ts';
import { countFilesIn, parseCounts, restoreDatabaseCommand, restoreVolumeCommand, type DatabaseTarget } from '../../lib/recovery/restore-script.ts';
import { scratchDir } from '../helpers/run.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { scratchRoot } from '../helpers/scratch-root.ts';
import { Secret } from '../../lib/shell/secret.ts';

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
});


// The restore commands, run. The database restore runs against a real
// PostgreSQL 15 on this machine (test/helpers/postgres.ts) with the real
// psql and pg_restore, the volume restore with the real tar and find in a
// scratch root (test/helpers/scratch-root.ts); only the docker CLI is a
// stand-in, below.

/**
 * STAND-IN for the docker CLI, for what the restore scripts rely on
 * (https://docs.docker.com/reference/cli/docker/container/ps/,
 * /container/exec/, /volume/create/, /container/run/):
 * - `ps -q --filter label=com.docker.swarm.service.name=S --filter ...`
 *   prints the ids of the running containers that match, one a line, and
 *   nothing (status 0) when none does; $RUNNING_SERVICE's is 0123456789ab;
 * - `exec [-i] [-u U] [-e NAME[=VALUE]]... ID CMD...` runs CMD with the
 *   container's environment plus only the -e variables (a bare NAME takes
 *   the client's value); the container's server is at 127.0.0.1:$PG_PORT
 *   (PGPORT), where the postgres image's is at 5432; an unknown ID fails;
 * - `volume create NAME` makes the volume (nothing if it exists), prints NAME;
 * - `run [--rm] [-i] [--network X] [--log-driver X] -v NAME:/P
 *   --entrypoint E IMAGE ARG...` runs E ARG... with the volume mounted at /P
 *   (a bind mount in a private mount namespace), stdin passed through.
 * Each call's argv goes to $RECORD/N.argv and the command lines of the
 * processes that started it (up to the test) to $RECORD/N.callers.
 */
const DOCKER_STANDIN = `#!/bin/bash
n=$(ls "$RECORD" | grep -c '[.]argv$')
printf '%s\\0' "$@" > "$RECORD/$n.argv"
p=$PPID
while [ "$p" -gt 1 ] && [ "$p" != "$TEST_PID" ]; do tr '\\0' ' ' < /proc/$p/cmdline; echo; p=$(awk '{ print $4 }' /proc/$p/stat); done > "$RECORD/$n.callers"
case "$1" in
  ps) [[ " $* " == *" label=com.docker.swarm.service.name=$RUNNING_SERVICE "* ]] && echo 0123456789ab
      exit 0 ;;
  exec) shift; pass=()
    while :; do case "$1" in
      -i) shift ;;
      -u) shift 2 ;;
      -e) if [[ "$2" == *=* ]]; then pass+=("$2"); else pass+=("$2=\${!2}"); fi; shift 2 ;;
      *) break ;;
    esac; done
    [ "$1" = 0123456789ab ] || { echo "Error response from daemon: No such container: $1" >&2; exit 1; }
    shift
    exec env -i PATH=/usr/bin:/bin PGPORT="$PG_PORT" "\${pass[@]}" "$@" ;;
  volume) [ "$2" = create ] && mkdir -p "/var/lib/docker/volumes/$3/_data" && echo "$3" ;;
  run) shift
    while :; do case "$1" in
      --rm|-i) shift ;;
      --network|--log-driver) shift 2 ;;
      -v) vol=\${2%%:*} at=\${2#*:}; shift 2 ;;
      --entrypoint) entry=$2; shift 2 ;;
      *) break ;;
    esac; done
    shift
    mkdir -p "$at"
    exec unshare --mount --propagation unchanged sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "/var/lib/docker/volumes/$vol/_data" "$at" "$entry" "$@" ;;
  *) echo "stand-in docker: unexpected $*" >&2; exit 1 ;;
esac
`;

const SHELLS = ['dash', 'bash'] as const;
const PASSWORD = 'pw-canary-77';
let server: Promise<TestPostgres> | undefined;
const postgres = () => (server ??= startPostgres(PASSWORD));
after(async () => {
  if (server) (await server).stop();
});

/** A set's dump of a database `src` (pg_dump -Fc, as the backup's postgres item takes it): 1000 notes, 37 tags, owned by `srcowner`, tags granted to `reader`. */
let dumped: Promise<{ pg: TestPostgres; dump: string }> | undefined;
const fixture = () =>
  (dumped ??= (async () => {
    const pg = await postgres();
    pg.sql('postgres', `CREATE ROLE srcowner; CREATE ROLE reader; CREATE ROLE gitea; CREATE ROLE vibe LOGIN SUPERUSER PASSWORD 'vibe-pw-31'`);
    pg.sql('postgres', 'CREATE DATABASE src');
    pg.sql('src', `CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, repeat('n', 100) FROM generate_series(1, 1000) g;
      CREATE TABLE tags (id int); INSERT INTO tags SELECT generate_series(1, 37);
      ALTER TABLE notes OWNER TO srcowner; ALTER TABLE tags OWNER TO srcowner; GRANT SELECT ON tags TO reader`);
    const dump = path.join(scratchDir(), 'vibedb.dump');
    const r = spawnSync('pg_dump', ['-Fc', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'src', '-f', dump], { env: { ...process.env, PGPASSWORD: PASSWORD }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return { pg, dump };
  })());

/** Runs the restore command with `shell` as the host's sh, the stand-in docker first on PATH. */
function runRestore(shell: (typeof SHELLS)[number], target: DatabaseTarget, file: string, pg: TestPostgres) {
  const dir = scratchDir();
  const record = path.join(dir, 'record');
  mkdirSync(record);
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(path.join(dir, 'bin', 'docker'), DOCKER_STANDIN, { mode: 0o755 });
  const c = restoreDatabaseCommand(target, file);
  const r = spawnSync(shell, ['-c', c.bytes.toString()], {
    env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, RECORD: record, TEST_PID: String(process.pid), RUNNING_SERVICE: 'lab_postgres', PG_PORT: String(pg.port) },
    input: c.stdinBytes(),
    encoding: 'utf8',
  });
  const calls = readdirSync(record)
    .filter((f) => f.endsWith('.argv'))
    .sort((a, b) => parseInt(a) - parseInt(b))
    .map((f) => ({ argv: readFileSync(path.join(record, f), 'utf8').split('\0').slice(0, -1), callers: readFileSync(path.join(record, f.replace('.argv', '.callers')), 'utf8') }));
  return { ...r, calls };
}

const publicTables = (pg: TestPostgres, db: string) => pg.sql(db, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`).split('\n').filter(Boolean);

test('the database restore, run: drops and re-creates (even with a session open), restores in one transaction, the password only on stdin', async () => {
  const { pg, dump } = await fixture();
  const target = { service: 'lab_postgres', database: 'vibedb', user: 'postgres', host: '127.0.0.1', password: new Secret(PASSWORD) };
  const complete = { 'public.notes': 1000, 'public.tags': 37 };
  for (const shell of SHELLS) {
    pg.sql('postgres', 'DROP DATABASE IF EXISTS vibedb');
    // No database yet: made, restored, its rows counted on stdout.
    const first = runRestore(shell, target, dump, pg);
    assert.equal(first.status, 0, `${shell}: ${first.stderr}`);
    assert.deepEqual(parseCounts(first.stdout), complete);
    // Authenticated by SCRAM, so the password did reach psql and pg_restore; no command line held it.
    assert.ok(first.calls.some((c) => c.argv[0] === 'exec'), `${shell}: docker exec ran`);
    for (const c of first.calls) assert.ok(!c.argv.join(' ').includes(PASSWORD) && !c.callers.includes(PASSWORD), `${shell}: the password in the argv of ${c.argv.join(' ')}`);

    // A database changed since, with a session still connected: dropped anyway and made again, nothing of it kept.
    pg.sql('vibedb', `INSERT INTO notes VALUES (1001, 'added'); CREATE TABLE extra (x int)`);
    const session = spawn('psql', ['-X', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'vibedb'], { env: { ...process.env, PGPASSWORD: PASSWORD }, stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      while (pg.sql('postgres', `SELECT count(*) FROM pg_stat_activity WHERE datname = 'vibedb'`).trim() === '0') {
        assert.equal(session.exitCode, null, 'the session to hold open could not connect');
        await sleep(20);
      }
      const again = runRestore(shell, target, dump, pg);
      assert.equal(again.status, 0, `${shell}: ${again.stderr}`);
      assert.deepEqual(parseCounts(again.stdout), complete);
      assert.deepEqual(publicTables(pg, 'vibedb'), ['notes', 'tags']);
      assert.equal(pg.sql('vibedb', 'SELECT count(*) FROM notes').trim(), '1000');
    } finally {
      session.kill();
    }

    // A dump cut short fails part-way through the data: one transaction, so no table is left half restored.
    const cut = path.join(scratchDir(), 'cut.dump');
    const bytes = readFileSync(dump);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const failed = runRestore(shell, target, cut, pg);
    assert.notEqual(failed.status, 0, `${shell}: a cut dump restored`);
    assert.match(failed.stderr, /could not read from input file/);
    assert.deepEqual(publicTables(pg, 'vibedb'), [], `${shell}: tables of a failed restore were kept`);
    // The next run drops that empty database again and restores in full.
    const rerun = runRestore(shell, target, dump, pg);
    assert.equal(rerun.status, 0, `${shell}: ${rerun.stderr}`);
    assert.deepEqual(parseCounts(rerun.stdout), complete);

    // No running container of the service: refused before anything is dropped.
    const elsewhere = runRestore(shell, { ...target, service: 'other_postgres' }, dump, pg);
    assert.equal(elsewhere.status, 3);
    assert.match(elsewhere.stderr, /no running container of service other_postgres on this host/);
    assert.deepEqual(publicTables(pg, 'vibedb'), ['notes', 'tags']);
  }
});

test("the database restore, run: a database restored for an application is owned by the application's role, its objects too, with no grants of the old cluster", async () => {
  const { pg, dump } = await fixture();
  const owners = (db: string) => ({
    database: pg.sql('postgres', `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${db}'`).trim(),
    tables: pg.sql(db, `SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'`).trim(),
    grants: pg.sql(db, `SELECT coalesce(relacl::text, '') FROM pg_class WHERE relname = 'tags'`).trim(),
  });
  for (const shell of SHELLS) {
    // Restored by vibe (a superuser) for gitea: gitea owns the database and every table; the dump's owner and grants are dropped.
    const owned = runRestore(shell, { service: 'lab_postgres', database: 'giteadb', user: 'vibe', host: '127.0.0.1', password: new Secret('vibe-pw-31'), owner: 'gitea' }, dump, pg);
    assert.equal(owned.status, 0, `${shell}: ${owned.stderr}`);
    assert.deepEqual(owners('giteadb'), { database: 'gitea', tables: 'gitea', grants: '' });
    // With no owner named: the restoring user's.
    const plain = runRestore(shell, { service: 'lab_postgres', database: 'plaindb', user: 'postgres', host: '127.0.0.1', password: new Secret(PASSWORD) }, dump, pg);
    assert.equal(plain.status, 0, `${shell}: ${plain.stderr}`);
    assert.deepEqual(owners('plaindb'), { database: 'postgres', tables: 'postgres', grants: '' });
  }
});

test('the volume restore, run: the volume is made or emptied and holds exactly the tar, modes kept; the count of its files is printed', () => {
  // The set's tar of a volume: names with a space and newlines, a subdirectory, a symlink, an empty directory, a 0600 file.
  const src = scratchDir();
  writeFileSync(path.join(src, 'plain'), 'a');
  writeFileSync(path.join(src, 'with space'), 'b', { mode: 0o600 });
  writeFileSync(path.join(src, 'with\nnewline'), 'c');
  mkdirSync(path.join(src, 'empty dir'));
  mkdirSync(path.join(src, 'sub'));
  writeFileSync(path.join(src, 'sub', 'nested\n\nname'), 'd');
  symlinkSync('plain', path.join(src, 'link'));
  const tar = spawnSync('tar', ['-C', src, '-cf', '-', '.']);
  assert.equal(tar.status, 0, tar.stderr.toString());
  const root = scratchRoot({
    '/standin/docker': { content: DOCKER_STANDIN, mode: 0o755 },
    '/backup/20261122_020000/volume-lab_files.tar': tar.stdout,
    // What the volume held before: gone after the restore.
    '/var/lib/docker/volumes/lab_files/_data/stale': 'from before the disaster',
    '/record/.keep': '',
  });
  const tree = (dir: string) => spawnSync('sh', ['-c', 'cd "$1" && find . -mindepth 1 -printf "%p %y %m %l\\n" | sort && find . -type f -exec cat {} +', 'sh', dir], { encoding: 'utf8' }).stdout;
  for (const shell of SHELLS) {
    // lab_files holds what it held before (and after the first shell's run, that run's files); the other volume is not there yet.
    for (const volume of ['lab_files', `lab_new_${shell}`]) {
      const c = restoreVolumeCommand(volume, '/backup/20261122_020000/volume-lab_files.tar', 'debian:bookworm-slim');
      const r = root.run(shell, c.bytes.toString(), { env: { PATH: '/standin:/usr/sbin:/usr/bin:/sbin:/bin', RECORD: '/record', TEST_PID: String(process.pid) } });
      assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), '4', `${shell} ${volume}: the restored file count`);
      assert.equal(tree(path.join(root.dir, `var/lib/docker/volumes/${volume}/_data`)), tree(src), `${shell} ${volume}: the volume holds exactly the tar`);
    }
  }
});
