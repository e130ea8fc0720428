// Point-in-time recovery (issue 30, acceptance 5) on this machine's real
// PostgreSQL and its real pg_receivewal, pg_basebackup and pg_waldump,
// driven through the ops over two real sshd hosts (the database's host and
// the archive host). The stand-in `docker` below runs what the ops ask of
// Docker on this machine: `exec` runs the command here (an archiver's
// /archive mapped to its directory), `run -d` starts the archiver's command
// in the background, `service scale` stops and starts the test server,
// `volume inspect` names its data directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../helpers/cli.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { sshInventory, startSshd, type TestSshd } from '../helpers/sshd.ts';

const PG_BIN = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0]}/bin`;

function standInDocker(dir: string, pg: TestPostgres, state: string): string {
  const data = path.join(path.dirname(pg.socketDir), 'data');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(
    path.join(bin, 'docker'),
    `#!/bin/bash
# Stand-in docker: the test PostgreSQL is the service's one container, the archiver a background process.
set -u
state='${state}'
export PATH='${PG_BIN}':"$PATH"
running() { [ -f '${data}/postmaster.pid' ] && kill -0 "$(head -n1 '${data}/postmaster.pid')" 2>/dev/null; }
case "$1" in
  ps) running && echo test-postgres; exit 0 ;;
  volume) echo '${data}'; exit 0 ;;
  service)
    # The database's host is a worker (the NAS): only a manager changes a service.
    [ "\${STANDIN_SWARM_ROLE:-manager}" = manager ] || { echo 'Error response from daemon: This node is not a swarm manager.' >&2; exit 1; }
    case "$*" in
      *=0) runuser -u postgres -- pg_ctl -D '${data}' -m fast -w stop >/dev/null ;;
      *=1) runuser -u postgres -- pg_ctl -D '${data}' -l '${data}/server.log' -o '-p ${pg.port} -k ${pg.socketDir} -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null || { tail -n3 '${data}/server.log' >&2; exit 1; } ;;
    esac
    exit $? ;;
  inspect)
    # Docker's answer for a container that is not there (the pitr aside reads it).
    pid=$(cat "$state/archiver.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null || { echo "Error: No such object: \${@: -1}" >&2; exit 1; }
    echo "true $(cat "$state/archiver.label")"; exit 0 ;;
  rm) pid=$(cat "$state/archiver.pid" 2>/dev/null) && kill "$pid" 2>/dev/null; rm -f "$state"/archiver.*; exit 0 ;;
  run)
    shift; envs=(); while [ $# -gt 0 ]; do case "$1" in
      -d) shift ;;
      --name|--restart|--network) shift 2 ;;
      -v) echo "\${2%%:*}" > "$state/archiver.dir"; shift 2 ;;
      -e) envs+=("$2"); shift 2 ;;
      --label) echo "\${2#*=}" > "$state/archiver.label"; shift 2 ;;
      *) break ;;
    esac; done
    shift
    src=$(cat "$state/archiver.dir")
    args=(); for a in "$@"; do args+=("\${a//\\/archive/$src}"); done
    envs=("\${envs[@]//\\/archive/$src}")
    setsid env "\${envs[@]}" "\${args[@]}" >"$state/archiver.log" 2>&1 </dev/null &
    echo $! > "$state/archiver.pid"; exit 0 ;;
  exec)
    shift; envs=(); while [ $# -gt 0 ]; do case "$1" in -i) shift ;; -e) envs+=("$2"); shift 2 ;; *) break ;; esac; done
    id=$1; shift
    if [ "$id" = rigger-wal-archiver ]; then
      src=$(cat "$state/archiver.dir")
      args=(); for a in "$@"; do args+=("\${a//\\/archive/$src}"); done
      exec env "\${envs[@]//\\/archive/$src}" "\${args[@]}"
    fi
    PGHOST='${pg.socketDir}' PGPORT=${pg.port} exec env "\${envs[@]}" "$@" ;;
  *) echo "stand-in docker: $1 is not supported" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  return bin;
}

let pg: TestPostgres;
let hosts: TestSshd[] = [];
let inventory: string;
/** The archive host's directory as the test reads it (its disk); at archive_dir only the archive host sees it. */
let archive: string;
let staging: string;
let state: string;

before(async () => {
  pg = await startPostgres(`superuser ${Math.random().toString(36).slice(2)}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'pitr-'));
  // Both hosts are this machine: the archive directory is private to the archive host (a mount
  // namespace of its own), so the database host finds only an empty directory at archive_dir and
  // must be sent what it needs into its staging directory (another path).
  const archiveDir = path.join(dir, 'archive');
  archive = path.join(dir, 'archive-host-disk');
  staging = path.join(dir, 'staging');
  state = path.join(dir, 'state');
  for (const d of [archiveDir, archive, state]) mkdirSync(d);
  const bin = standInDocker(dir, pg, state);
  const env = { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin` };
  // The database's host is a swarm worker (as the NAS is): the service is scaled on the manager, the archive host here.
  hosts = await Promise.all([startSshd({ env: { ...env, STANDIN_SWARM_ROLE: 'worker' } }), startSshd({ address: '127.0.0.2', env, privateDir: { at: archiveDir, source: archive } })]);
  inventory = sshInventory(
    [
      { name: 'data', sshd: hosts[0]! },
      { name: 'archive', sshd: hosts[1]! },
    ],
    [
      '    postgres_pitr:',
      '      database_host: data',
      '      archive_host: archive',
      `      archive_dir: ${archiveDir}`,
      `      staging_dir: ${staging}`,
      '      server_host: 127.0.0.1',
      `      server_port: ${pg.port}`,
      '      admin: postgres',
      '      password: "archiver pass: with colon"',
      '      keep_base: 2',
    ].join('\n'),
  );
  appendFileSync(inventory, '  children:\n    managers:\n      hosts:\n        archive: {}\n');
});

after(async () => {
  const pid = existsSync(path.join(state, 'archiver.pid')) ? Number(readFileSync(path.join(state, 'archiver.pid'), 'utf8')) : 0;
  if (pid) try { process.kill(pid); } catch { /* gone */ }
  await Promise.all(hosts.map((h) => h.stop()));
  pg?.stop();
});

const recover = (to: string) => runCli(['playbooks/disaster-recovery.ts', '-i', inventory, '--to-time', to], {}, 300_000);
const ids = () => pg.sql('postgres', 'SELECT id FROM pitr_rows ORDER BY id').trim().split('\n').filter(Boolean).map(Number);

/** Waits (bounded, not asserted) until the archiver has received the WAL up to now. */
async function archived(): Promise<void> {
  const lsn = pg.sql('postgres', 'SELECT pg_current_wal_lsn()').trim();
  for (let i = 0; i < 200; i++) {
    if (pg.sql('postgres', `SELECT count(*) FROM pg_stat_replication WHERE write_lsn >= '${lsn}'`).trim() === '1') return;
    await sleep(100);
  }
  throw new Error(`the archiver did not receive ${lsn}: ${readFileSync(path.join(state, 'archiver.log'), 'utf8')}`);
}

test('rows written after a base backup; recovery to a time between two of them keeps the rows up to it and none after; outside the archive refused naming the range', async () => {
  pg.sql('postgres', 'CREATE TABLE pitr_rows (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
  pg.sql('postgres', 'INSERT INTO pitr_rows (id) VALUES (0)');

  const setup = await runCli(['test/fixtures/playbooks/pitr-archive.ts', '-i', inventory], {}, 300_000);
  assert.equal(setup.code, 0, setup.stdout + setup.stderr);
  // The archiver connects in the background: a bounded wait, then the assertion.
  const streaming = () => pg.sql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'rigger_archive' AND active").trim();
  for (let i = 0; i < 100 && streaming() !== '1'; i++) await sleep(100);
  assert.equal(streaming(), '1', 'pg_receivewal streams through the slot');
  assert.equal(readdirSync(path.join(archive, 'base')).filter((d) => /^\d{8}_\d{6}$/.test(d)).length, 1, 'one base backup taken');
  await sleep(1100); // the rows' commits later than the base backup's end, which has one-second resolution

  pg.sql('postgres', 'INSERT INTO pitr_rows (id) VALUES (1)');
  pg.sql('postgres', 'INSERT INTO pitr_rows (id) VALUES (2)');
  const between = pg.sql('postgres', "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')").trim();
  await sleep(300);
  // Row 3 in a segment of its own (the next one), a commit in the one after: hiding row 3's segment makes a gap below.
  pg.sql('postgres', 'SELECT pg_switch_wal()');
  pg.sql('postgres', 'INSERT INTO pitr_rows (id) VALUES (3)');
  const rowThreeSegment = pg.sql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())').trim();
  const lastCommit = pg.sql('postgres', "SELECT to_char(max(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM pitr_rows").trim();
  pg.sql('postgres', 'SELECT pg_switch_wal()');
  pg.sql('postgres', 'CREATE TABLE pitr_after_gap (x int)');
  await archived();

  // Later than the newest archived commit: refused before anything is stopped, the newest reachable time named.
  const tooLate = await recover(new Date(Date.parse(lastCommit) + 3600_000).toISOString());
  assert.notEqual(tooLate.code, 0, tooLate.stdout);
  assert.match(tooLate.stdout + tooLate.stderr, /not before the newest archived WAL: the newest time reachable is just before 20\d\d-/);
  // Earlier than the oldest base backup: refused the same way.
  const tooEarly = await recover('2001-01-01T00:00:00Z');
  assert.notEqual(tooEarly.code, 0, tooEarly.stdout);
  assert.match(tooEarly.stdout + tooEarly.stderr, /earlier than the oldest base backup: the archive reaches from 20\d\d-/);
  assert.deepEqual(ids(), [0, 1, 2, 3], 'a refused recovery changed nothing');

  // A gap in the archived WAL (max_slot_wal_keep_size dropped a segment): the replay would stop at it, short of the
  // target, so the plan refuses before anything is stopped, naming the gap and the newest time reachable before it.
  const walDir = path.join(archive, 'wal');
  renameSync(path.join(walDir, rowThreeSegment), path.join(walDir, `hidden-${rowThreeSegment}`));
  const gapped = await recover(between);
  renameSync(path.join(walDir, `hidden-${rowThreeSegment}`), path.join(walDir, rowThreeSegment));
  assert.notEqual(gapped.code, 0, gapped.stdout);
  assert.match(gapped.stdout + gapped.stderr, new RegExp(`segment ${rowThreeSegment} is missing`));
  const reachable = /newest time reachable is just before (\S+?);/.exec(gapped.stdout + gapped.stderr)?.[1];
  assert.ok(reachable && Date.parse(reachable) <= Date.parse(between), `the newest reachable time (${reachable}) is before the gap, not the newest archived commit`);
  assert.deepEqual(ids(), [0, 1, 2, 3], 'nothing stopped or changed');
  assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], 'nothing staged');

  const r = await recover(between);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(ids(), [0, 1, 2], 'the rows committed up to the time exist, none after');
  assert.equal(pg.sql('postgres', 'SELECT pg_is_in_recovery()').trim(), 'f', 'promoted: the database takes writes');
  pg.sql('postgres', 'INSERT INTO pitr_rows (id) VALUES (4)');
  // Archiving goes on, on the new timeline, into a fresh archive; the one that led here is kept aside.
  await archived();
  const kept = readdirSync(archive).filter((d) => d.startsWith('before-pitr-'));
  assert.equal(kept.length, 1, readdirSync(archive).join(' '));
  assert.equal(readdirSync(path.join(archive, kept[0]!, 'base')).length, 1, 'the old base backup kept aside');
  assert.equal(readdirSync(path.join(archive, 'base')).filter((d) => /^\d{8}_\d{6}$/.test(d)).length, 1, 'a fresh base backup on the new timeline');
  assert.ok(readdirSync(path.join(archive, 'wal')).some((f) => f.startsWith('00000002')), 'WAL of timeline 2 archived');
  const reached = /reached: (\S+)/.exec(r.stdout)?.[1];
  assert.ok(reached, r.stdout);
  assert.ok(Date.parse(reached) <= Date.parse(between), `the time reached (${reached}) is not after --to-time ${between}`);
  assert.equal(pg.sql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'rigger_archive'").trim(), '1', 'the slot made again after the recovery');
  assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], 'the staged archive removed from the database host after the recovery');
  assert.equal(pg.sql('postgres', "SELECT count(*) FROM pg_file_settings WHERE name IN ('recovery_target_time', 'restore_command')").trim(), '0', 'the recovery settings removed from the configuration: a later restart is an ordinary one');
});

test("a recovery's last plays start archiving again: the old archive moved aside only when the database was restored", async () => {
  const again = (restored: boolean, ...flags: string[]) => runCli(['test/fixtures/playbooks/pitr-again.ts', '-i', inventory, ...(restored ? ['--restored'] : []), ...flags], {}, 300_000);
  const asides = () => readdirSync(archive).filter((d) => d.startsWith('before-pitr-')).sort();
  const bases = () => readdirSync(path.join(archive, 'base')).filter((d) => /^\d{8}_\d{6}$/.test(d));
  const streaming = () => pg.sql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'rigger_archive' AND active").trim();
  const waitStreaming = async (out = '') => {
    for (let i = 0; i < 100 && streaming() !== '1'; i++) await sleep(100);
    assert.equal(streaming(), '1', `pg_receivewal streams through the slot: ${out}${readFileSync(path.join(state, 'archiver.log'), 'utf8')}`);
  };
  // The archiver gone (a lost archive host's containers), when the test before left one running: the stand-in's docker rm.
  execFileSync(path.join(path.dirname(state), 'bin', 'docker'), ['rm', '-f', 'rigger-wal-archiver']);
  const before = asides();
  const basesBefore = existsSync(path.join(archive, 'base')) ? bases().length : 0;
  // The database kept its data: its archive still follows it and stays.
  const kept = await again(false);
  assert.equal(kept.code, 0, kept.stdout + kept.stderr);
  assert.deepEqual(asides(), before, 'nothing moved aside when the database kept its data');
  await waitStreaming(kept.stdout);
  assert.equal(bases().length, basesBefore + 1, 'a base backup taken beside the kept ones');

  // --check changes nothing: no aside, no new base backup, the archiver left streaming.
  const checked = await again(true, '--check');
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.deepEqual(asides(), before, 'check mode moved nothing aside');
  assert.equal(bases().length, basesBefore + 1, 'check mode took no base backup');
  assert.equal(streaming(), '1', 'check mode left the archiver running');

  // The database restored from its dumps: the old archive moved aside, a fresh one started with its base backup.
  await sleep(1100); // base backups are stamped to the second
  const restored = await again(true);
  assert.equal(restored.code, 0, restored.stdout + restored.stderr);
  const moved = asides().filter((d) => !before.includes(d));
  assert.equal(moved.length, 1, readdirSync(archive).join(' '));
  assert.equal(readdirSync(path.join(archive, moved[0]!, 'base')).length, basesBefore + 1, 'the old base backups kept aside');
  await waitStreaming(restored.stdout);
  assert.equal(bases().length, 1, 'the fresh archive holds one base backup, of the database as it is now');
});

test('a converge (site.ts) with postgres_pitr starts archiving on a fresh cluster with one base backup of it; a second converge and --check change nothing', async () => {
  const converge = (...flags: string[]) => runCli(['test/fixtures/playbooks/pitr-converge.ts', '-i', inventory, ...flags], {}, 300_000);
  const bases = () => (existsSync(path.join(archive, 'base')) ? readdirSync(path.join(archive, 'base')).filter((d) => /^\d{8}_\d{6}$/.test(d)).sort() : []);
  const slot = (where = '') => pg.sql('postgres', `SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'rigger_archive'${where}`).trim();
  // A cluster never archived: no archiver, no slot, an empty archive (what the tests before left kept aside).
  execFileSync(path.join(path.dirname(state), 'bin', 'docker'), ['rm', '-f', 'rigger-wal-archiver']);
  for (let i = 0; i < 100 && slot(' AND active') !== '0'; i++) await sleep(100);
  pg.sql('postgres', "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'rigger_archive'");
  for (const d of ['base', 'wal']) if (existsSync(path.join(archive, d))) renameSync(path.join(archive, d), path.join(archive, `before-converge-${d}`));

  // --check on the fresh cluster: nothing started, no slot, no base backup.
  const checked = await converge('--check');
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.equal(slot(), '0', 'check mode made no slot');
  assert.deepEqual(bases(), [], 'check mode took no base backup');
  assert.equal(existsSync(path.join(state, 'archiver.pid')), false, 'check mode started no archiver');

  const first = await converge();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  for (let i = 0; i < 100 && slot(' AND active') !== '1'; i++) await sleep(100);
  assert.equal(slot(' AND active'), '1', `pg_receivewal streams through the slot after the converge: ${first.stdout}`);
  const taken = bases();
  assert.equal(taken.length, 1, 'one base backup of the fresh cluster');
  const systemId = pg.sql('postgres', 'SELECT system_identifier FROM pg_control_system()').trim();
  assert.match(readFileSync(path.join(archive, 'base', taken[0]!, 'info'), 'utf8'), new RegExp(`^system_id ${systemId}$`, 'm'), 'the base backup records the cluster it is of');

  // The declared state holds: a second converge takes no base backup and changes nothing.
  await sleep(1100); // base backups are stamped to the second: a new one would show
  const again = await converge();
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(bases(), taken, 'no base backup on a converge that finds one of this cluster');
  assert.match(again.stdout, /data +: ok=\d+ +changed=0 /, again.stdout);
  assert.match(again.stdout, /archive +: ok=\d+ +changed=0 /, again.stdout);

  // The archiver gone (a reboot without --restart): --check says so and starts nothing; a converge starts it, no base backup.
  execFileSync(path.join(path.dirname(state), 'bin', 'docker'), ['rm', '-f', 'rigger-wal-archiver']);
  const checkedGone = await converge('--check');
  assert.equal(checkedGone.code, 0, checkedGone.stdout + checkedGone.stderr);
  assert.equal(existsSync(path.join(state, 'archiver.pid')), false, 'check mode started no archiver');
  const restarted = await converge();
  assert.equal(restarted.code, 0, restarted.stdout + restarted.stderr);
  for (let i = 0; i < 100 && slot(' AND active') !== '1'; i++) await sleep(100);
  assert.equal(slot(' AND active'), '1', 'the archiver started again');
  assert.deepEqual(bases(), taken, 'still the one base backup of this cluster');
});
