import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { raw, sh, type Command } from '../../lib/shell/command.ts';
import { HOMELAB_VAULT_PASSWORD, HOST_OF, REHEARSAL_INVENTORY } from '../../scripts/lab/rehearsal.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { ARCHIVER, pitrVars, type PitrConfig } from '../../lib/pitr/config.ts';
import { backupVarsOf } from '../helpers/cluster-data.ts';
import { waitFor } from '../helpers/data-node.ts';
import { onNode } from '../helpers/node.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';
import type { BackupVars } from '../../lib/backup/config.ts';

// Issue 30, acceptance 5, on the rehearsal of the real cluster: homelab.yml's
// postgres_pitr (gateway_postgres on the NAS stand-in, its WAL archived on the
// ai node). One backup.ts starts the archiver and takes a base backup; rows 1
// and 2 are written, then the time T is read from the server's clock, then row
// 3; once the archiver has received past row 3, a time outside the archive is
// refused with nothing stopped, and `disaster-recovery.ts --to-time T` brings
// the server back to T: rows 1 and 2, not 3, the server takes writes, the time
// reached is not after T, health is green, archiving goes on.
//
// The rows live in a table of this suite's own in vibedb, dropped in after():
// the recovery rewinds the whole server to T, which is after every row the
// suites before wrote (T follows this suite's base backup), so the other
// tables are as before. The sets backup.ts took (and their copies) are
// removed in after(), as are the data and archive the recovery moved aside;
// the archiver and its slot stay (backup.ts runs them every night).

let inv: string;
let pitr: PitrConfig;
let hosts: Map<string, BackupVars>;
const TABLE = 'rigger_pitr_drill';
const nodeOf = (h: string) => HOST_OF[h]!;
const setsBefore = new Map<string, string[]>();

const on = async (host: string, command: Command) => {
  const r = await onNode(inv, nodeOf(host), command);
  if (r.code !== 0) throw new Error(`${host}: ${r.stderr}`);
  return r.stdout.trim();
};
/** The running PostgreSQL container on the NAS stand-in (the service's only task). */
const PG_CONTAINER = `docker ps -q --filter label=com.docker.swarm.service.name=gateway_postgres --filter status=running | head -n1`;
const psql = (sql: string, db = 'vibedb') => on(pitr.database_host, sh`docker exec "$(${raw(PG_CONTAINER)})" psql -X -q -v ON_ERROR_STOP=1 -U ${pitr.admin} -d ${db} -tAc ${sql}`);
const containerId = () => on(pitr.database_host, sh`docker ps -q --no-trunc --filter label=com.docker.swarm.service.name=gateway_postgres --filter status=running`);
const ids = async () => (await psql(`SELECT id FROM ${TABLE} ORDER BY id`)).split('\n').filter(Boolean).map(Number);
const setsIn = async (host: string, dir: string) =>
  (await onNode(inv, nodeOf(host), sh`cd -- ${dir} 2>/dev/null && for d in [0-9]*_[0-9]*; do [ -f "$d/manifest.json" ] && echo "$d"; done; true`)).stdout.split('\n').filter(Boolean).sort();
const recover = (to: string) => onRehearsal('playbooks/disaster-recovery.ts', ['--to-time', to], 20 * 60_000);

before(async () => {
  inv = await convergedRehearsal();
  const loaded = await loadInventories([REHEARSAL_INVENTORY], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const c = pitrVars.parse(Object.fromEntries([...loaded.varsFor('data.vibe.local')].map(([k, v]) => [k, v.value]))).postgres_pitr;
  assert.ok(c, 'the rehearsal carries homelab.yml\'s postgres_pitr');
  pitr = c;
  hosts = await backupVarsOf(REHEARSAL_INVENTORY, HOMELAB_VAULT_PASSWORD);
  for (const [h, v] of hosts) setsBefore.set(h, await setsIn(h, v.backup_root));
});

after(async () => {
  if (!pitr) return;
  await psql(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
  // What the recovery moved aside (kept by design until an operator removes it) and any staged copy left.
  await onNode(inv, nodeOf(pitr.database_host), sh`d=$(docker volume inspect -f '{{.Mountpoint}}' ${pitr.volume}) && rm -rf -- "$d"/../before-pitr-*; rm -rf -- ${pitr.staging_dir}`);
  await onNode(inv, nodeOf(pitr.archive_host), sh`rm -rf -- ${pitr.archive_dir}/before-pitr-*`);
  // The sets this suite's backup.ts took, and their copies on any node.
  for (const [h, v] of hosts ?? []) {
    const made = (await setsIn(h, v.backup_root)).filter((s) => !setsBefore.get(h)!.includes(s));
    if (!made.length) continue;
    await onNode(inv, nodeOf(h), sh`cd -- ${v.backup_root} && rm -rf -- ${made}`);
    for (const [c, cv] of hosts) if (c !== h) await onNode(inv, nodeOf(c), sh`cd -- ${`${cv.backup_root}/copies/${h}`} 2>/dev/null && rm -rf -- ${made}; true`);
  }
});

test('--to-time T between two rows: the rows up to T exist, none after; outside the archive refused with nothing stopped; health green after', async (t) => {
  assert.equal(pitr.database_host, 'data.vibe.local');
  assert.notEqual(pitr.archive_host, pitr.database_host);

  // One backup.ts: every node's set, and the archiver running on the archive host with a base backup.
  const backup = await onRehearsal('playbooks/backup.ts', [], 20 * 60_000);
  assert.equal(backup.code, 0, `backup.ts:\n${backup.stdout}\n${backup.stderr}`);
  assert.equal(await on(pitr.archive_host, sh`docker inspect -f '{{.State.Running}}' ${ARCHIVER}`), 'true', 'pg_receivewal runs on the archive host');
  await waitFor('the archiver streaming through its slot', async () => (await psql(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${pitr.slot}' AND active`, 'postgres')) === '1');
  const bases = (await on(pitr.archive_host, sh`ls -1 ${`${pitr.archive_dir}/base`}`)).split('\n').filter((d) => /^\d{8}_\d{6}$/.test(d));
  assert.ok(bases.length >= 1, 'a base backup on the archive host');

  // Rows at known times (the server's clock); T between rows 2 and 3.
  await psql(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await psql(`INSERT INTO ${TABLE} (id) VALUES (1)`);
  await psql(`INSERT INTO ${TABLE} (id) VALUES (2)`);
  const T = await psql(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  // Row 3 strictly later than T on the server's clock (the next call's clock_timestamp is).
  await waitFor('the server clock past T', async () => (await psql(`SELECT clock_timestamp() > '${T}'::timestamptz`)) === 't');
  await psql(`INSERT INTO ${TABLE} (id) VALUES (3)`);
  const lsn = await psql('SELECT pg_current_wal_lsn()', 'postgres');
  await waitFor('the archiver to receive past row 3', async () => (await psql(`SELECT count(*) FROM pg_stat_replication WHERE write_lsn >= '${lsn}'::pg_lsn`, 'postgres')) !== '0');
  t.diagnostic(`rows: ${await psql(`SELECT string_agg(id || ' ' || at, ', ' ORDER BY id) FROM ${TABLE}`)}; T = ${T}`);

  // Outside the archive: refused before anything stops (the same container serves on).
  const task = await containerId();
  const tooLate = await recover(new Date(Date.parse(T) + 3600_000).toISOString());
  assert.notEqual(tooLate.code, 0, tooLate.stdout);
  assert.match(tooLate.stdout + tooLate.stderr, /not before the newest archived WAL: the newest time reachable is just before 20\d\d-/);
  const tooEarly = await recover('2001-01-01T00:00:00Z');
  assert.notEqual(tooEarly.code, 0, tooEarly.stdout);
  assert.match(tooEarly.stdout + tooEarly.stderr, /earlier than the oldest base backup: the archive reaches from 20\d\d-/);
  assert.equal(await containerId(), task, 'a refused recovery stopped nothing');
  assert.deepEqual(await ids(), [1, 2, 3]);

  const r = await recover(T);
  assert.equal(r.code, 0, `disaster-recovery.ts --to-time ${T}:\n${r.stdout}\n${r.stderr}`);
  t.diagnostic(r.stdout.slice(r.stdout.lastIndexOf('point-in-time recovery to')));
  assert.notEqual(await containerId(), task, 'the server was restarted from the base backup');
  assert.deepEqual(await ids(), [1, 2], 'the rows committed up to T exist, none after');
  const reached = /reached: (\S+)/.exec(r.stdout)?.[1];
  assert.ok(reached, r.stdout);
  assert.ok(Date.parse(reached) <= Date.parse(T), `the time reached (${reached}) is not after --to-time ${T}`);
  assert.equal(await psql('SELECT pg_is_in_recovery()', 'postgres'), 'f', 'promoted');
  await psql(`INSERT INTO ${TABLE} (id) VALUES (4)`);
  assert.deepEqual(await ids(), [1, 2, 4], 'the server takes writes');
  assert.deepEqual((await on(pitr.database_host, sh`ls -A ${pitr.staging_dir} 2>/dev/null; true`)).split('\n').filter(Boolean), [], 'the staged archive removed from the NAS');

  // Archiving goes on, on the new timeline, from the archive host.
  await waitFor('the archiver streaming again', async () => (await psql(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${pitr.slot}' AND active`, 'postgres')) === '1');
  const health = await onRehearsal('playbooks/health.ts', [], 5 * 60_000);
  assert.equal(health.code, 0, `health.ts after the recovery:\n${health.stdout}\n${health.stderr}`);
});
