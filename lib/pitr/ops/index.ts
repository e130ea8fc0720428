import { z } from '../../shell/zod.ts';
import { raw, sh } from '../../shell/command.ts';
import { createHash } from 'node:crypto';
import { defineOp, OpFailure, type Decision, type Remote } from '../../model/op.ts';
import type { Command } from '../../shell/command.ts';
import { Secret } from '../../shell/secret.ts';
import { CONTAINER_OF } from '../../ops/docker/container-of.ts';
import { scramVerifier, verifierMatches } from '../../ops/postgres/scram.ts';
import type { ExecResult } from '../../transport/types.ts';
import { ARCHIVER, pitrConfig, type PitrConfig } from '../config.ts';
import { keepSizeMb } from '../keep-size.ts';
import { baseBackupCommand, baseIdsCommand, parseBaseIds, IN_CONTAINER, parseBase, parseRange, parseRestore, planRecovery, rangeCommand, restoreCommand, serviceScaleCommand, type ArchiveRange, type BaseIds, type BaseTaken, type PitrPlan } from '../scripts.ts';

const stderrTail = (r: ExecResult) => r.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ');
const schema = z.object({ config: pitrConfig }).strict();
type P = z.output<typeof schema>;

/** The pg_hba line that lets the archiver (and only its role) open replication connections, with its password. */
export const hbaLine = (c: PitrConfig) => `host replication ${c.user} ${c.archiver_address} scram-sha-256`;

interface ServerState {
  error?: string;
  walLevel: string;
  senders: number;
  verifier?: string;
  replication: boolean;
  slot: boolean;
  keep: string;
  hba: boolean;
}

const psqlIn = (c: PitrConfig, interactive: boolean) =>
  sh`${raw(CONTAINER_OF)}
if c=$(container_of ${c.service}); then docker exec ${interactive ? ['-i'] : []} "$c" psql -U ${c.admin} -d postgres -X -q -v ON_ERROR_STOP=1`;

/**
 * What the server needs for the archiver: wal_level replica (the image's
 * default) and WAL senders, the replication role with the inventory's
 * password, its pg_hba line, the slot (so nothing is lost while the
 * archiver is down) and max_slot_wal_keep_size (so a dead archiver cannot
 * fill the database's disk). Run on the database's host, as the databases
 * role is; the password travels as a SCRAM verifier on psql's stdin.
 */
export const pitrServer = defineOp({
  kind: 'pitr.server',
  schema,
  describe: (p) => `WAL archiving settings of ${p.config.service}`,
  probe: (p) => ({
    // The hba_file read first, then searched: inside the $(...) that assigns it, $out is not set yet.
    // psql's stderr apart from its rows (a warning such as PostgreSQL 15's collation version mismatch
    // is not a row), reported only when psql fails.
    command: sh`${raw(CONTAINER_OF)}
err=$(mktemp) || exit 1
trap 'rm -f "$err"' EXIT
out=$(${psqlIn(p.config, false)} -At -F '|' -c ${`SELECT current_setting('wal_level'), current_setting('max_wal_senders'), current_setting('max_slot_wal_keep_size'), current_setting('hba_file'), coalesce((SELECT 'role:' || coalesce(rolpassword, '') FROM pg_authid WHERE rolname = '${p.config.user}'), 'none'), coalesce((SELECT rolreplication::text FROM pg_authid WHERE rolname = '${p.config.user}'), 'false'), (SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${p.config.slot}')`} 2>"$err"; else echo @@nocontainer; fi) || out="@@psql $(cat "$err") $out"
printf '%s\n' "$out"
case $out in @@*) ;; *) c=$(container_of ${p.config.service}) && docker exec "$c" sh -c ${`grep -qxF '${hbaLine(p.config)}' "$1" && echo hba || :`} sh "$(printf '%s' "$out" | cut -d'|' -f4)" || : ;; esac`.quietly(),
    parse: (r: ExecResult): ServerState => {
      const text = r.stdout.toString('utf8');
      const base: ServerState = { walLevel: '', senders: 0, replication: false, slot: false, keep: '', hba: false };
      if (text.startsWith('@@nocontainer')) return { ...base, error: 'no running container of the service on this host' };
      if (text.startsWith('@@psql')) return { ...base, error: `psql failed: ${text.slice(6).trim()}` };
      const [first = '', ...rest] = text.split('\n');
      const [walLevel = '', senders = '0', keep = '', , role = 'none', replication = '', slots = '0'] = first.split('|');
      const verifier = role.startsWith('role:') ? role.slice(5) : undefined;
      if (verifier) new Secret(verifier);
      return { walLevel, senders: Number(senders), keep, ...(verifier !== undefined ? { verifier } : {}), replication: replication === 'true', slot: Number(slots) > 0, hba: rest.includes('hba') };
    },
  }),
  decide: (p, s: ServerState): Decision<{ changes: string[] }> => {
    const c = p.config;
    if (s.error) return { kind: 'fail', reason: `${c.service}: ${s.error}` };
    // Both are read at start only: the stack's command sets them, a restart applies them.
    if (s.walLevel === 'minimal') return { kind: 'fail', reason: `${c.service} runs with wal_level minimal: set wal_level=replica in its command (the image's default) and restart it` };
    if (s.senders < 2) return { kind: 'fail', reason: `${c.service} has max_wal_senders ${s.senders}: the archiver and a base backup need 2 (the image's default is 10)` };
    const changes: string[] = [];
    const sql: string[] = [];
    const password = c.password.reveal();
    /** Listed for redaction: psql may quote a failing statement. */
    const verifier = () => {
      const v = scramVerifier(password);
      new Secret(v);
      return v;
    };
    if (s.verifier === undefined) {
      changes.push(`create replication role ${c.user}`);
      sql.push(`CREATE ROLE "${c.user}" LOGIN REPLICATION PASSWORD '${verifier()}';`);
    } else if (!s.replication || !verifierMatches(s.verifier, password)) {
      changes.push(`role ${c.user}: replication and the inventory's password`);
      sql.push(`ALTER ROLE "${c.user}" LOGIN REPLICATION PASSWORD '${verifier()}';`);
    }
    if (!s.slot) {
      changes.push(`create slot ${c.slot}`);
      sql.push(`SELECT pg_create_physical_replication_slot('${c.slot}');`);
    }
    const keep = keepSizeMb(s.keep);
    if (keep === undefined || keep !== keepSizeMb(c.max_slot_wal_keep_size)) {
      changes.push(`max_slot_wal_keep_size ${s.keep || 'unset'} -> ${c.max_slot_wal_keep_size}`);
      sql.push(`ALTER SYSTEM SET max_slot_wal_keep_size = '${c.max_slot_wal_keep_size}';`);
    }
    if (!s.hba) changes.push(`pg_hba: ${hbaLine(c)}`);
    if (changes.length === 0) return { kind: 'ok', result: { changes } };
    sql.push('SELECT pg_reload_conf();');
    const result = { changes };
    const hba = sh`c=$(container_of ${c.service}) || { echo ${`no running container of ${c.service}`} >&2; exit 1; }
docker exec "$c" sh -c ${`f=$(psql -U "$1" -d postgres -XAt -c 'SHOW hba_file') && { grep -qxF "$2" "$f" || printf '%s\\n' "$2" >> "$f"; }`} sh ${c.admin} ${hbaLine(c)}`;
    return {
      kind: 'change',
      msg: changes.join('; '),
      // The pg_hba line first: the reload that ends the SQL applies it too.
      commands: [sh`${raw(CONTAINER_OF)}\n${hba}`, sh`${psqlIn(c, true)}; else echo ${`no running container of ${c.service}`} >&2; exit 1; fi`.withStdin(Secret.unlisted(sql.join('\n') + '\n'))],
      result: () => result,
      checkResult: result,
    };
  },
});

/** The archiver's settings, as a label on its container: a change of any of them replaces it. */
export function archiverLabel(c: PitrConfig): string {
  const pw = createHash('sha256').update(c.password.reveal()).digest('hex').slice(0, 16);
  return createHash('sha256').update(JSON.stringify([c.image, c.network, c.archive_dir, c.server_host, c.server_port, c.user, c.slot, pw])).digest('hex').slice(0, 16);
}

/**
 * pg_receivewal on the archive host, as a container of the server's image
 * with `--restart unless-stopped` on the database's overlay network (not a
 * Swarm service: it must run on this one host, keep running when the swarm
 * lost its managers, and the archive host need not be a manager to start it).
 * Its login is a pgpass file in the archive directory, 0600, never argv or env.
 */
export const walArchiver = defineOp({
  kind: 'pitr.archiver',
  schema,
  describe: (p) => `pg_receivewal of ${p.config.service} into ${p.config.archive_dir}/wal`,
  probe: (p) => ({ command: sh`docker inspect -f ${'{{.State.Running}} {{index .Config.Labels "rigger.pitr"}}'} ${ARCHIVER} 2>/dev/null || echo missing`, parse: (r: ExecResult) => r.stdout.toString('utf8').trim() }),
  decide: (p, state: string): Decision<{ label: string }> => {
    const c = p.config;
    const label = archiverLabel(c);
    if (state === `true ${label}`) return { kind: 'ok', result: { label } };
    const pgpass = Secret.unlisted(`*:*:*:${c.user}:${c.password.reveal().replace(/\\/g, '\\\\').replace(/:/g, '\\:')}\n`);
    return {
      kind: 'change',
      msg: state === 'missing' ? 'start the WAL archiver' : state.startsWith('true') ? 'replace the WAL archiver (its settings changed)' : 'restart the WAL archiver (not running)',
      commands: [
        sh`umask 077 && mkdir -p ${`${c.archive_dir}/wal`} ${`${c.archive_dir}/base`} && cat > ${`${c.archive_dir}/.pgpass`}`.withStdin(pgpass),
        sh`docker rm -f ${ARCHIVER} >/dev/null 2>&1; docker run -d --name ${ARCHIVER} --restart unless-stopped --network ${c.network} -v ${`${c.archive_dir}:${IN_CONTAINER}`} -e ${`PGPASSFILE=${IN_CONTAINER}/.pgpass`} --label ${`rigger.pitr=${label}`} ${c.image} pg_receivewal -D ${`${IN_CONTAINER}/wal`} -S ${c.slot} -h ${c.server_host} -p ${String(c.server_port)} -U ${c.user} -w`,
      ],
      result: () => ({ label }),
      checkResult: { label },
    };
  },
});

/**
 * One base backup on the archive host, then retention of base backups and
 * the WAL before the oldest kept one. The nightly one (backup.ts) is taken
 * every time. With ifNoneOfThisCluster (a converge, site.ts) it is taken
 * only when the archive holds no base backup of the running cluster (each
 * records the server's system identifier in its info): archiving declared
 * by postgres_pitr needs one to replay from, and a converge that finds one
 * changes nothing.
 */
export const pitrBaseBackup = defineOp({
  kind: 'pitr.base',
  schema: z.object({ config: pitrConfig, ifNoneOfThisCluster: z.boolean().default(false) }).strict(),
  describe: (p) => `base backup of ${p.config.service}`,
  probe: (p) => (p.ifNoneOfThisCluster ? { command: baseIdsCommand(p.config), parse: (r: ExecResult) => parseBaseIds(r.stdout.toString('utf8')) } : undefined),
  decide: (p, ids: BaseIds | undefined): Decision<BaseTaken> => {
    const c = p.config;
    const mine = ids?.server !== undefined ? ids.bases.filter((b) => b.systemId === ids.server).at(-1) : undefined;
    if (mine) return { kind: 'ok', result: { stamp: mine.stamp, startWal: '', endTime: '', dropped: [], walPruned: 0, already: true } };
    // Without the server's identifier (its archiver not started yet: check mode on a fresh cluster) one would be taken.
    const why = !ids ? '' : ids.server === undefined ? ` (the server's system identifier unread: ${ids.error ?? 'no output'})` : ` (none of cluster ${ids.server} in the archive)`;
    return {
      kind: 'change',
      msg: `base backup of ${c.service} into ${c.archive_dir}/base${why}`,
      checkResult: { stamp: '', startWal: '', endTime: '', dropped: [], walPruned: 0 },
      apply: async (remote) => {
        const r = await remote.run(baseBackupCommand(c));
        if (r.code !== 0) throw new OpFailure(`base backup of ${c.service} failed: ${stderrTail(r)}`, r);
        return parseBase(r.stdout.toString('utf8'));
      },
    };
  },
});

/**
 * Which base backup a recovery to `to` starts from, or the refusal naming
 * the reachable range (scripts.ts planRecovery). Read-only: run on the
 * archive host before anything is stopped.
 */
export const pitrPlan = defineOp({
  kind: 'pitr.plan',
  schema: z.object({ config: pitrConfig, to: z.string() }).strict(),
  describe: (p) => `point in time ${p.to} in ${p.config.archive_dir}`,
  probe: (p) => ({ command: rangeCommand(p.config), parse: (r: ExecResult) => parseRange(r.stdout.toString('utf8')) }),
  decide: (p, range: ArchiveRange): Decision<PitrPlan & { range: ArchiveRange }> => {
    const plan = planRecovery(range, new Date(p.to));
    if (!plan.ok) return { kind: 'fail', reason: plan.reason };
    return { kind: 'ok', result: { ...plan, range } };
  },
});

export interface PitrRestored {
  to: string;
  base: string;
  /** The time of the last transaction replayed (the state the database is in). */
  reached?: string;
  /** Where the data the server held before is kept. */
  aside?: string;
}

/** recovery_target_time's form: its check rejects ISO's T and Z (PostgreSQL 15/16), so '2026-12-07 13:45:00.000+00'. */
export const serverTime = (iso: string) => new Date(iso).toISOString().replace('T', ' ').replace('Z', '+00');

/** The recovery on the database's host (scripts.ts restoreCommand). */
export const pitrRestore = defineOp({
  kind: 'pitr.restore',
  schema: z
    .object({
      config: pitrConfig,
      base: z.string().regex(/^\d{8}_\d{6}$/),
      startWal: z.string().regex(/^[0-9A-F]{24}$/),
      to: z.string(),
      /** Where base/ and wal/ are on the database's host: the archive staged there (default archive_dir, the same path). */
      dir: z.string().regex(/^\/[A-Za-z0-9_.@+\/-]*$/).optional(),
      /** The inventory host that scales the service (a swarm manager; the database's host is a worker on homelab.yml); default this host. */
      manager: z.string().min(1).optional(),
      waitSeconds: z.number().int().min(1).default(600),
    })
    .strict(),
  describe: (p) => `${p.config.service} to ${p.to}`,
  decide: (p): Decision<PitrRestored> => ({
    kind: 'change',
    msg: `stop ${p.config.service}, restore base backup ${p.base} and recover to ${p.to}`,
    checkResult: { to: p.to, base: p.base },
    apply: async (remote) => {
      const c = p.config;
      const input = { service: c.service, volume: c.volume, dir: p.dir ?? c.archive_dir, base: p.base, startWal: p.startWal, to: serverTime(p.to), admin: c.admin, waitSeconds: p.waitSeconds };
      // A worker (the NAS) cannot scale a service: that runs on the manager, the rest here.
      const scaler = p.manager !== undefined && p.manager !== c.database_host ? remote.onHost?.(p.manager) : remote;
      if (!scaler) throw new OpFailure('pitrRestore with a manager needs a run around it (Remote.onHost)');
      let aside: string | undefined;
      const step = async (what: string, cmd: Command, on: Remote = remote) => {
        const r = await on.run(cmd);
        const out = parseRestore(r.stdout.toString('utf8'));
        aside ??= out.aside;
        if (r.code !== 0) throw new OpFailure(`point-in-time recovery of ${c.service} failed (${what}): ${stderrTail(r)}${aside ? `; the data it held is in ${aside}` : ''}`, r);
        return out;
      };
      await step('the staged archive', restoreCommand('check', input));
      await step(`stopping ${c.service}`, serviceScaleCommand(c.service, 0), scaler);
      await step(`waiting for ${c.service} to stop`, restoreCommand('down', input));
      await step('the base backup and WAL into the volume', restoreCommand('prepare', input));
      await step(`starting ${c.service}`, serviceScaleCommand(c.service, 1), scaler);
      const up = await step('the recovery to the time', restoreCommand('up', input));
      return { to: p.to, base: p.base, ...up, ...(aside ? { aside } : {}) };
    },
  }),
});

/**
 * Removes the archiver and makes sure it is gone: a container that survived
 * `docker rm -f` (a daemon error, a stuck kill) would go on writing into the
 * wal/ being moved. Gone means Docker answers "no such object"; any other
 * answer of `docker inspect` fails too, since nothing then says it stopped.
 */
async function archiverGone(remote: Remote): Promise<void> {
  const rm = await remote.run(sh`docker rm -f ${ARCHIVER}`.quietly());
  const left = await remote.run(sh`docker inspect -f ${'{{.Id}}'} ${ARCHIVER}`.quietly());
  if (left.code === 0) throw new OpFailure(`the archiver ${ARCHIVER} is still there after docker rm -f (${stderrTail(rm) || `exit ${rm.code}`}): nothing moved; remove it, then run again`, left);
  if (!/no such (object|container)/i.test(left.stderr.toString('utf8'))) throw new OpFailure(`docker inspect ${ARCHIVER} failed, so nothing says the archiver stopped: ${stderrTail(left)}; nothing moved`, left);
}

/**
 * After a recovery to a time the server is on a new timeline, and the old
 * one's WAL past the target would make pg_receivewal ask for a position the
 * new timeline has not reached (it starts after the newest segment it
 * holds): the gap it would leave is never noticed. So the archive that led
 * here is moved aside whole (kept: it still reaches the old timeline's
 * times) into ARCHIVE_DIR/before-pitr-STAMP, and the archiver and a base
 * backup start a fresh one (the role's next tasks).
 */
export const pitrArchiveAside = defineOp({
  kind: 'pitr.aside',
  schema,
  describe: (p) => `${p.config.archive_dir} after a recovery`,
  // Which of base/ and wal/ the archive holds: none when the archive host lost
  // its disk too (every node lost), and then there is nothing to keep aside.
  probe: (p) => ({
    command: sh`for d in base wal; do [ ! -e ${p.config.archive_dir}/"$d" ] || printf '%s\n' "$d"; done`,
    parse: (r: ExecResult) => r.stdout.toString('utf8').split('\n').filter((l) => l === 'base' || l === 'wal'),
  }),
  decide: (p, present: string[]): Decision<{ aside: string }> => {
    if (present.length === 0) return { kind: 'ok', msg: `no archive in ${p.config.archive_dir}: nothing to keep aside`, result: { aside: '' } };
    return {
      kind: 'change',
      msg: `stop the archiver; move ${p.config.archive_dir}/${present.join(' and ')} aside`,
      checkResult: { aside: '' },
      apply: async (remote) => {
        const dir = p.config.archive_dir;
        await archiverGone(remote);
        // mkdir without -p: a second aside in the same second must not merge into the first one.
        const r = await remote.run(
          sh`set -eu; aside=${dir}/before-pitr-$(date -u +%Y%m%d_%H%M%S); mkdir -- "$aside"; for d in base wal; do [ ! -e ${dir}/"$d" ] || mv -- ${dir}/"$d" "$aside/"; done; printf '%s\n' "$aside"`,
        );
        if (r.code !== 0) throw new OpFailure(`moving the archive aside failed: ${stderrTail(r)}`, r);
        return { aside: r.stdout.toString('utf8').trim() };
      },
    };
  },
});
export { pitrStage, pitrUnstage, stagingDirOf, type Staged } from './stage.ts';
