import { raw, sh, type Command } from '../shell/command.ts';
import type { Secret } from '../shell/secret.ts';
import { CONTAINER_OF } from '../ops/docker/container-of.ts';

/** Sets c to the container of service $svc as the backup finds it; else runs onMissing. */
const containerOf = (onMissing: string) => `${CONTAINER_OF}
c=$(container_of "$svc") || { ${onMissing}; }`;

/**
 * Every user table of a database with its exact row count, one `schema.table N`
 * per line: what the recovery report and the drill compare.
 */
export const COUNT_ROWS_SQL = `SELECT table_schema || '.' || table_name || ' ' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`;

export interface DatabaseTarget {
  service: string;
  database: string;
  user: string;
  host: string;
  password?: Secret | undefined;
  /** The role that owns the restored database and its objects (backup_items: owner). */
  owner?: string | undefined;
}

/**
 * Drops and re-creates a database and restores a custom-format dump into it
 * in one transaction, then counts its rows. Dropping first makes a second
 * run end in the same state as the first (no duplicated rows); the single
 * transaction means an interrupted restore leaves an empty database, which
 * the next run drops again. A per-database dump carries no roles: objects
 * are owned by the target's owner (SET ROLE through --role) when it names
 * one, else by the restoring user.
 */
export function restoreDatabaseCommand(t: DatabaseTarget, file: string): Command {
  const ident = `"${t.database.replace(/"/g, '""')}"`;
  const body = sh`set -euo pipefail
IFS= read -r pw || true
svc=${t.service}
${raw(containerOf('echo "no running container of service $svc on this host" >&2; exit 3'))}
run() { PGPASSWORD=$pw docker exec -i -e PGPASSWORD "$c" "$@"; }
run psql -X -q -v ON_ERROR_STOP=1 -h ${t.host} -U ${t.user} -d postgres -c ${`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`} -c ${`CREATE DATABASE ${ident}${t.owner ? ` OWNER "${t.owner}"` : ''}`} </dev/null
run pg_restore -h ${t.host} -U ${t.user} -d ${t.database} --no-owner --no-privileges ${t.owner ? [`--role=${t.owner}`] : []} --exit-on-error --single-transaction < ${file}
run psql -X -At -v ON_ERROR_STOP=1 -h ${t.host} -U ${t.user} -d ${t.database} -c ${COUNT_ROWS_SQL} </dev/null`;
  return sh`bash -c ${body.bytes} rigger-restore`.withStdin(...(t.password ? [t.password, '\n'] : ['\n']));
}

/** Row counts of a database, for the guard that refuses to overwrite data. */
export function countRowsCommand(t: DatabaseTarget): Command {
  const body = sh`set -uo pipefail
IFS= read -r pw || true
exec </dev/null
command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo '@@nodocker'; exit 0; }
svc=${t.service}
${raw(containerOf("echo '@@nocontainer'; exit 0"))}
PGPASSWORD=$pw docker exec -i -e PGPASSWORD "$c" psql -X -At -h ${t.host} -U ${t.user} -d ${t.database} -c ${COUNT_ROWS_SQL} 2>&1 || echo '@@nodatabase'`;
  return sh`bash -c ${body.bytes} rigger-count`.withStdin(...(t.password ? [t.password, '\n'] : ['\n']));
}

export function parseCounts(text: string): Record<string, number> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^(\S+\.\S+) (\d+)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, Number(m[2])]),
  );
}

/**
 * Empties a volume (creating it if needed) and unpacks a tar into it through
 * a throwaway container; prints the number of files it then holds. Emptying
 * first makes a re-run end with exactly the set's files.
 */
/**
 * Counts the regular files under a directory (a shell variable or path,
 * quoting included): one byte per file, so a name holding a newline is one
 * file, where `find | wc -l` counted two. No single quotes, so it fits in an
 * `sh -c '...'`; GNU, busybox and BSD find and printf all run it.
 */
export const countFilesIn = (dir: string) => `find ${dir} -type f -exec printf %.0s. {} + | wc -c`;

export function restoreVolumeCommand(volume: string, file: string, image: string): Command {
  return sh`set -eu
docker volume create ${volume} >/dev/null
docker run --rm -i --network none --log-driver none -v ${`${volume}:/volume`} --entrypoint sh ${image} -c 'find /volume -mindepth 1 -delete && tar -C /volume -xpf - && ${raw(countFilesIn('/volume'))}' < ${file}`;
}

/**
 * Unpacks a `gitea dump` zip into the layout of Gitea's Docker image, whose
 * volume is mounted at $1 (/data in the container): data/ and custom/ into gitea/, repos/ into
 * git/repositories/, app.ini into gitea/conf/, owned by git (1000). Gitea's
 * database comes back from its own postgres item, not from gitea-db.sql.
 * Reads the zip on stdin; prints the number of files the volume then holds.
 */
export const GITEA_UNPACK = String.raw`set -eu
root=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cat > "$t/dump.zip"
cd "$t" && unzip -q dump.zip && rm dump.zip
mkdir -p "$root/gitea/conf" "$root/git/repositories"
if [ -d data ]; then cp -a data/. "$root/gitea/"; fi
if [ -d custom ]; then cp -a custom/. "$root/gitea/"; fi
if [ -d repos ]; then cp -a repos/. "$root/git/repositories/"; fi
if [ -f app.ini ]; then cp app.ini "$root/gitea/conf/app.ini"; fi
chown -R 1000:1000 "$root/gitea" "$root/git"
${countFilesIn('"$root"')}`;

/** The dump unpacked into the Gitea volume by a throwaway container of the Gitea image (it has unzip). */
export function restoreGiteaCommand(volume: string, file: string, image: string): Command {
  return sh`set -eu
docker volume create ${volume} >/dev/null
docker run --rm -i --network none --log-driver none -v ${`${volume}:/data`} --entrypoint sh ${image} -c ${GITEA_UNPACK} gitea-restore /data < ${file}`;
}

/**
 * Puts a config item's files back where the set took them (its tar holds
 * paths relative to /), keeping modes and owners; prints the number of
 * members that are not directories. Files the host has and the set does not
 * are left alone: a rebuilt host's own configuration stays unless the set had it.
 */
export function restoreConfigCommand(file: string): Command {
  return sh`set -eu
tar -C / -xpf ${file}
tar -tvf ${file} | grep -vc '^d' || true`;
}
