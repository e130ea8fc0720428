import { sh, type Command } from '../shell/command.ts';
import { CONTAINER_OF } from '../ops/docker/container-of.ts';
import { ARCHIVER, type PitrConfig } from './config.ts';
import { continuousRun, DEFAULT_SEGMENT_BYTES, segmentsPerLog, segmentWithin } from './wal-run.ts';

/**
 * The remote scripts of point-in-time recovery (bash, arguments positional,
 * never interpolated). The archive directory on the archive host:
 *   wal/               pg_receivewal's segments (the newest as NAME.partial)
 *   base/STAMP/        one base backup: base.tar.gz (pg_basebackup -Ft -X fetch,
 *                      so it is consistent alone) and info (start_wal, end_time)
 *   .pgpass            the archiver's login, 0600
 * Inside the archiver's container the directory is /archive.
 */
export const IN_CONTAINER = '/archive';

/** WAL segment names are 24 hex digits (timeline, log, segment): their order is the WAL's order within a timeline. */
const SEGMENT = '[0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]';

/**
 * The running server's system identifier (IDENTIFY_SYSTEM on a replication
 * connection, as the archiver's role, in its container): initdb gives each
 * cluster its own, so it tells a base backup of this cluster from one of a
 * cluster the archive followed before (a database restored from its dumps).
 */
const SYSTEM_ID_FN = String.raw`
system_id() { docker exec -e PGPASSFILE="$inner/.pgpass" "$archiver" psql "host=$host port=$port user=$user dbname=replication replication=true" -w -XAt -c IDENTIFY_SYSTEM | cut -d'|' -f1; }
`;

const BASE_BODY = String.raw`
set -euo pipefail
umask 077
dir=$1 host=$2 port=$3 user=$4 keep=$5 archiver=$6 inner=$7
${SYSTEM_ID_FN}
mkdir -p -- "$dir/base" "$dir/wal"
for d in "$dir"/base/*.partial; do [ -d "$d" ] && rm -rf -- "$d"; done
stamp=$(date -u +%Y%m%d_%H%M%S)
work="$dir/base/$stamp.partial"
mkdir -- "$work"
sysid=$(system_id)
# In the archiver's container: it has the server's client tools, its network and its login.
docker exec -e PGPASSFILE="$inner/.pgpass" "$archiver" pg_basebackup -h "$host" -p "$port" -U "$user" -w -D - -Ft -X fetch -c fast | gzip -1 > "$work/base.tar.gz"
end_time=$(date -u +%Y-%m-%dT%H:%M:%SZ)
gzip -t -- "$work/base.tar.gz"
label=$(tar -xzOf "$work/base.tar.gz" backup_label)
start_wal=$(printf '%s\n' "$label" | sed -n 's/^START WAL LOCATION: .*(file \([0-9A-F]\{24\}\)).*/\1/p')
[ -n "$start_wal" ] || { echo "no START WAL LOCATION in the base backup's backup_label" >&2; exit 1; }
printf 'start_wal %s\nend_time %s\nsystem_id %s\n' "$start_wal" "$end_time" "$sysid" > "$work/info"
sync -- "$work/base.tar.gz" "$work/info"
mv -- "$work" "$dir/base/$stamp"
printf '@@base %s %s %s\n' "$stamp" "$start_wal" "$end_time"
# Retention: the newest $keep base backups, and the WAL from the oldest kept one's start on.
ls -1 "$dir/base" | grep -E '^[0-9]{8}_[0-9]{6}$' | sort -r | tail -n +$((keep + 1)) | while read -r old; do
  rm -rf -- "$dir/base/$old"; printf '@@dropped %s\n' "$old"
done
oldest=$(ls -1 "$dir/base" | grep -E '^[0-9]{8}_[0-9]{6}$' | sort | head -n1)
first=$(sed -n 's/^start_wal //p' "$dir/base/$oldest/info")
n=0
for f in "$dir"/wal/${SEGMENT} "$dir"/wal/${SEGMENT}.partial; do
  [ -e "$f" ] || continue
  name=$(basename -- "$f"); name=${'$'}{name%.partial}
  if [[ "$name" < "$first" ]]; then rm -f -- "$f"; n=$((n + 1)); fi
done
printf '@@walpruned %s\n' "$n"
`;

/** Takes a base backup on the archive host into base/STAMP, then the retention of base backups and WAL. */
export function baseBackupCommand(c: PitrConfig): Command {
  return sh`bash -c ${BASE_BODY} rigger-pitr-base ${c.archive_dir} ${c.server_host} ${String(c.server_port)} ${c.user} ${String(c.keep_base)} ${ARCHIVER} ${IN_CONTAINER}`;
}

export interface BaseTaken {
  stamp: string;
  /** None taken: the archive already held this base backup of the running cluster (the converge's, ifNoneOfThisCluster). */
  already?: boolean;
  startWal: string;
  endTime: string;
  dropped: string[];
  walPruned: number;
}

export function parseBase(stdout: string): BaseTaken {
  const out: BaseTaken = { stamp: '', startWal: '', endTime: '', dropped: [], walPruned: 0 };
  for (const line of stdout.split('\n')) {
    const [tag, a, b, c] = line.split(' ');
    if (tag === '@@base') Object.assign(out, { stamp: a, startWal: b, endTime: c });
    else if (tag === '@@dropped') out.dropped.push(a!);
    else if (tag === '@@walpruned') out.walPruned = Number(a);
  }
  return out;
}

const BASE_IDS_BODY = String.raw`
set -uo pipefail
dir=$1 host=$2 port=$3 user=$4 archiver=$5 inner=$6
${SYSTEM_ID_FN}
out=$(system_id 2>&1)
id=$(printf '%s\n' "$out" | grep -E '^[0-9]+$' | tail -n1)
if [ -n "$id" ]; then printf '@@server %s\n' "$id"; else printf '@@noserver %s\n' "$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-300)"; fi
for b in "$dir"/base/*/info; do
  [ -f "$b" ] || continue
  stamp=$(basename -- "$(dirname -- "$b")")
  [[ $stamp =~ ^[0-9]{8}_[0-9]{6}$ ]] || continue
  printf '@@base %s %s\n' "$stamp" "$(sed -n 's/^system_id //p' "$b")"
done
exit 0
`;

/** Read-only, on the archive host: the running server's system identifier and the one each base backup records. */
export function baseIdsCommand(c: PitrConfig): Command {
  return sh`bash -c ${BASE_IDS_BODY} rigger-pitr-ids ${c.archive_dir} ${c.server_host} ${String(c.server_port)} ${c.user} ${ARCHIVER} ${IN_CONTAINER}`.quietly();
}

export interface BaseIds {
  /** The running server's system identifier; undefined when it could not be read (then `error`). */
  server?: string;
  error?: string;
  /** Each base backup's stamp and recorded system identifier ('' for one taken before they were recorded). */
  bases: { stamp: string; systemId: string }[];
}

export function parseBaseIds(stdout: string): BaseIds {
  const out: BaseIds = { bases: [] };
  for (const line of stdout.split('\n')) {
    const [tag, a = '', b = ''] = line.split(' ');
    if (tag === '@@server' && a) out.server = a;
    else if (tag === '@@noserver') out.error = line.slice(11).trim() || 'no output';
    else if (tag === '@@base' && a) out.bases.push({ stamp: a, systemId: b });
  }
  return out;
}

const RANGE_BODY = String.raw`
set -uo pipefail
dir=$1 archiver=$2 inner=$3
for b in "$dir"/base/*/info; do
  [ -f "$b" ] || continue
  printf '@@base %s %s %s\n' "$(basename -- "$(dirname -- "$b")")" "$(sed -n 's/^start_wal //p' "$b")" "$(sed -n 's/^end_time //p' "$b")"
done
# Every archived segment, for the plan's check that the WAL is continuous (wal-run.ts).
names=$(ls -1 "$dir/wal" | grep -E '^[0-9A-F]{24}(\.partial)?$' || true)
for f in $names; do printf '@@wal %s\n' "$f"; done
# The segment size (initdb --wal-segsize) is every segment file's size: pg_receivewal pads its .partial to it too.
seg=
for f in $names; do seg=$(stat -c %s -- "$dir/wal/$f") && [ "$seg" -gt 0 ] && break; seg=; done
seg=${'$'}{seg:-16777216}
printf '@@segsize %s\n' "$seg"
per=$(( 4294967296 / seg ))
# The newest commit of each continuous run (a gap ends one): from each run's last segment back, until one holds a commit.
# Ordered by position (log, segment), then timeline: a promotion's new timeline continues the old one's position.
prev= want=1
for f in $(printf '%s\n' $names | awk 'NF {print substr($0, 9, 16) substr($0, 1, 8) " " $0}' | sort -r | cut -d' ' -f2); do
  n=${'$'}{f%.partial}
  pos=$(( 16#${'$'}{n:8:8} * per + 16#${'$'}{n:16:8} ))
  if [ -n "$prev" ] && [ $((pos + 1)) -lt "$prev" ]; then want=1; fi
  prev=$pos
  [ "$want" = 1 ] || continue
  # pg_waldump reads only files named as segments (not pg_receivewal's NAME.partial), so it reads a copy named so.
  # It stops with an error at the end of the valid records (a .partial's unwritten tail): what it printed before counts.
  t=$(docker exec -e TZ=UTC "$archiver" sh -c 'd=$(mktemp -d) && cp "$1" "$d/$2" && pg_waldump "$d/$2"; rm -rf "$d"' sh "$inner/wal/$f" "$n" 2>/dev/null | sed -n 's/.*desc: COMMIT \([0-9-]* [0-9:.]*\) UTC.*/\1/p' | tail -n1)
  if [ -n "$t" ]; then printf '@@newest %s %s\n' "$t" "$f"; want=0; fi
done
exit 0
`;

/** What the archive holds: its base backups, its WAL segments, and the newest commit time of each continuous run of them. */
export function rangeCommand(c: PitrConfig): Command {
  return sh`bash -c ${RANGE_BODY} rigger-pitr-range ${c.archive_dir} ${ARCHIVER} ${IN_CONTAINER}`.quietly();
}

export interface ArchiveRange {
  bases: { stamp: string; startWal: string; endTime: string }[];
  /** Every archived segment's file name (pg_receivewal's newest as NAME.partial). */
  wal: string[];
  /** The newest commit (ISO) of each continuous run of segments, and the segment holding it; newest first. */
  commits: { time: string; segment: string }[];
  /** ISO time of the newest archived commit; undefined when the WAL holds none. */
  newestCommit?: string;
  /** The cluster's WAL segment size (initdb --wal-segsize): the archived segments' file size, 16 MB when none is archived. */
  segmentBytes: number;
}

/** pg_waldump's "2026-12-07 13:40:01.123456" (UTC) as ISO. */
const walTimeToIso = (t: string) => `${t.replace(' ', 'T')}Z`;

export function parseRange(stdout: string): ArchiveRange {
  const out: ArchiveRange = { bases: [], wal: [], commits: [], segmentBytes: DEFAULT_SEGMENT_BYTES };
  for (const line of stdout.split('\n')) {
    const parts = line.split(' ');
    if (parts[0] === '@@base' && parts[3]) out.bases.push({ stamp: parts[1]!, startWal: parts[2]!, endTime: parts[3] });
    else if (parts[0] === '@@wal' && parts[1]) out.wal.push(parts[1]);
    else if (parts[0] === '@@segsize' && parts[1]) out.segmentBytes = Number(parts[1]);
    else if (parts[0] === '@@newest' && parts[3]) out.commits.push({ time: new Date(walTimeToIso(`${parts[1]} ${parts[2]}`)).toISOString(), segment: parts[3] });
  }
  out.bases.sort((a, b) => a.endTime.localeCompare(b.endTime));
  out.commits.sort((a, b) => b.time.localeCompare(a.time));
  if (out.commits[0]) out.newestCommit = out.commits[0].time;
  return out;
}

export type PitrPlan = { ok: true; base: string; startWal: string; oldest: string; newest: string } | { ok: false; reason: string };

/**
 * The base backup a recovery to `to` starts from: the newest one consistent
 * by then. Refused, naming the reachable range, before the oldest base
 * backup or at or after the newest commit the replay can reach (recovery
 * to a time stops before the first commit later than it, so the WAL must
 * hold one: PostgreSQL would otherwise stop with "recovery ended before
 * configured recovery target was reached"). The replay reaches only as far
 * as the archived WAL is continuous from the base backup's start segment
 * (wal-run.ts): a gap makes the newest commit before it the newest time
 * reachable, and a later target is refused naming that time and the gap.
 */
export function planRecovery(range: ArchiveRange, to: Date): PitrPlan {
  const oldest = range.bases[0];
  if (!oldest) return { ok: false, reason: 'the archive holds no base backup: nothing to recover from' };
  if (!range.newestCommit) return { ok: false, reason: 'the archive holds no WAL with a commit: nothing to recover to' };
  const span = `the archive reaches from ${oldest.endTime} (its oldest base backup, ${oldest.stamp}) to before ${range.newestCommit} (its newest archived commit)`;
  if (to.getTime() < new Date(oldest.endTime).getTime()) return { ok: false, reason: `--to-time ${to.toISOString()} is earlier than the oldest base backup: ${span}` };
  const base = range.bases.filter((b) => new Date(b.endTime).getTime() <= to.getTime()).at(-1)!;
  try {
    segmentsPerLog(range.segmentBytes);
  } catch (e) {
    return { ok: false, reason: `the archive's WAL files are ${range.segmentBytes} bytes each: ${(e as Error).message}` };
  }
  const run = continuousRun(range.wal, base.startWal, range.segmentBytes);
  if (!run) return { ok: false, reason: `the WAL segment ${base.startWal} where base backup ${base.stamp} starts is not archived: nothing can be replayed from it; ${span}` };
  const reachable = range.commits.find((c) => segmentWithin(c.segment, base.startWal, run.last, range.segmentBytes))?.time;
  const gap = run.missing ? `; the archived WAL has a gap: segment ${run.missing} is missing (${run.beyond} later segments cannot be replayed), so the replay from base backup ${base.stamp} ends at ${run.last}` : '';
  if (!reachable) return { ok: false, reason: `--to-time ${to.toISOString()}: the WAL from base backup ${base.stamp}'s start ${base.startWal} to ${run.last} holds no commit, so no time after it is reachable${gap}; ${span}` };
  if (to.getTime() >= new Date(reachable).getTime()) return { ok: false, reason: `--to-time ${to.toISOString()} is not before the newest archived WAL: the newest time reachable is just before ${reachable}${gap}; ${span}` };
  return { ok: true, base: base.stamp, startWal: base.startWal, oldest: oldest.endTime, newest: reachable };
}

const RESTORE_BODY = String.raw`
set -euo pipefail
umask 077
step=$1 service=$2 volume=$3 dir=$4 base=$5 first=$6 to=$7 admin=$8 wait=$9
fail() { printf '%s\n' "$1" >&2; exit 1; }
data=$(docker volume inspect -f '{{.Mountpoint}}' "$volume") || fail "no volume $volume on this host"
[ -d "$data" ] || fail "volume $volume's mount point $data is not a directory"
case $step in
check)
  # $dir is the archive's copy staged here from the archive host (ops/stage.ts).
  [ -f "$dir/base/$base/base.tar.gz" ] || fail "no base backup $dir/base/$base on the database's host (the archive staged from the archive host)"
  ;;
down)
  i=0; while container_of "$service" >/dev/null; do i=$((i + 1)); [ $i -lt "$wait" ] || fail "$service still runs after $wait s"; sleep 1; done
  ;;
prepare)
  # The data the server held is kept beside the volume, not deleted: a wrong --to-time must not cost it.
  aside="$data/../before-pitr-$(date -u +%Y%m%d_%H%M%S)"
  mkdir -- "$aside"
  # mv -t is GNU's: the database host may be DSM, so the target goes last through sh.
  find "$data" -mindepth 1 -maxdepth 1 -exec sh -c 'd=$1; shift; mv -- "$@" "$d"' rigger-aside "$aside" {} +
  printf '@@aside %s\n' "$(cd "$aside" && pwd)"
  tar -xzf "$dir/base/$base/base.tar.gz" -C "$data" --numeric-owner
  owner=$(stat -c %u:%g -- "$data/PG_VERSION")
  # The WAL from the base backup's start on, the receiver's unfinished segment under its final name, the timelines' history.
  mkdir -- "$data/pitr_wal"
  for f in "$dir"/wal/*; do
    name=$(basename -- "$f")
    case $name in
      *.history) cp -- "$f" "$data/pitr_wal/$name" ;;
      *.partial) seg=${'$'}{name%.partial}; [[ "$seg" < "$first" ]] || cp -- "$f" "$data/pitr_wal/$seg" ;;
      *) [[ ${'$'}{#name} -eq 24 && ! "$name" < "$first" ]] && cp -- "$f" "$data/pitr_wal/$name" || true ;;
    esac
  done
  # restore_command runs with the data directory as its working directory, in the container as here.
  cat >> "$data/postgresql.auto.conf" <<CONF
restore_command = 'cp pitr_wal/%f "%p"'
recovery_target_time = '$to'
recovery_target_action = 'promote'
CONF
  : > "$data/recovery.signal"
  chown -R -- "$owner" "$data"
  ;;
up)
  state=
  i=0
  while :; do
    if c=$(container_of "$service") && state=$(docker exec "$c" psql -U "$admin" -d postgres -XAt -c 'SELECT pg_is_in_recovery()' 2>/dev/null) && [ "$state" = f ]; then break; fi
    i=$((i + 1)); [ $i -lt "$wait" ] || fail "$service was not promoted within $wait s (recovery state: ${'$'}{state:-not answering})"
    sleep 1
  done
  reached=$(docker exec "$c" psql -U "$admin" -d postgres -XAt -c "SELECT to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
  printf '@@reached %s\n' "$reached"
  # Promoted: the recovery settings go, so a later restart is an ordinary one.
  docker exec "$c" psql -U "$admin" -d postgres -XAt -v ON_ERROR_STOP=1 -c 'ALTER SYSTEM RESET restore_command' -c 'ALTER SYSTEM RESET recovery_target_time' -c 'ALTER SYSTEM RESET recovery_target_action' -c 'SELECT pg_reload_conf()' >/dev/null
  rm -rf -- "$data/pitr_wal"
  ;;
*) fail "unknown step $step" ;;
esac
`;

export interface RestoreInput {
  service: string;
  volume: string;
  /** The archive's copy staged on this host (base/ and wal/). */
  dir: string;
  base: string;
  startWal: string;
  /** ISO. */
  to: string;
  admin: string;
  waitSeconds: number;
}

/**
 * The recovery's steps on the database's host, around the service scaled
 * to 0 and back to 1 on a manager (serviceScaleCommand): `check` (the
 * staged base backup is there) before anything stops; `down` waits for the
 * container to be gone; `prepare` moves the volume's data aside, unpacks
 * the base backup, puts the WAL it needs beside it and writes
 * recovery.signal with restore_command and recovery_target_time (promote at
 * the target); `up` awaits promotion, reads the time reached and removes
 * the recovery settings.
 */
export type RestoreStep = 'check' | 'down' | 'prepare' | 'up';

export function restoreCommand(step: RestoreStep, p: RestoreInput): Command {
  return sh`bash -c ${`${CONTAINER_OF}\n${RESTORE_BODY}`} rigger-pitr-restore ${step} ${p.service} ${p.volume} ${p.dir} ${p.base} ${p.startWal} ${p.to} ${p.admin} ${String(p.waitSeconds)}`;
}

/** On a manager (a worker cannot change a service): the service's replicas. */
export function serviceScaleCommand(service: string, replicas: 0 | 1): Command {
  return sh`docker service scale -d ${`${service}=${replicas}`} >/dev/null`;
}

export function parseRestore(stdout: string): { reached?: string; aside?: string } {
  const out: { reached?: string; aside?: string } = {};
  for (const line of stdout.split('\n')) {
    if (line.startsWith('@@reached ') && line.length > 10) out.reached = line.slice(10).trim();
    if (line.startsWith('@@aside ')) out.aside = line.slice(8).trim();
  }
  return out;
}

