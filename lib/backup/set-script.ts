import { sh, type Command } from '../shell/command.ts';
import { quote } from '../shell/quote.ts';
import type { Secret } from '../shell/secret.ts';
import { itemFile, itemName, type BackupItemConfig, type BackupVars } from './config.ts';
import { REMOTE_HELPERS } from './remote-helpers.ts';
import { ROOT_MARKER, rootCheckFunctions } from './root-check.ts';

/**
 * The one remote script that takes a set, run with bash under a lock on the
 * backup root. It is one exec so that the lock covers the whole set: a
 * timer run and a manual run never write the same root at once, and a
 * killed run's leftovers are cleaned by the next one under the same lock.
 *
 * Rules it keeps for every item: umask 077; pipefail and errexit; output to
 * NAME.partial; a full read of the artefact (pg_restore, tar -t, unzip -t)
 * and a size floor before its sha256 is taken; fsync; rename into place.
 * The manifest is written last, and the set directory is renamed from
 * STAMP.partial to STAMP only after it: a set without a manifest is never
 * a backup. The EXIT trap removes the partial set on any failure.
 *
 * Output is a line protocol on stdout (@@set, @@start, @@done, @@fail,
 * @@published) read by parseSetOutput.
 */
const q = (s: string | number) => quote(String(s)).toString('utf8');
const rel = (p: string) => p.replace(/^\/+/, '') || '.';

function itemCall(item: BackupItemConfig, secretVar: string | undefined, vars: BackupVars): string {
  const name = q(itemName(item));
  const file = q(itemFile(item));
  switch (item.kind) {
    case 'postgres':
      return `pg_item ${name} ${file} ${q(item.service)} ${q(item.database)} ${q(item.user)} ${q(item.host)} ${q(item.lock_wait_timeout)} ${secretVar ?? "''"}`;
    case 'gitea':
      return `gitea_item ${name} ${file} ${q(item.service)} ${q(item.user)} ${q(item.config)} ${q(item.tempdir)} ${q(item.volume ?? '')}`;
    case 'volume':
      return `volume_item ${name} ${file} ${q(item.volume)} ${q(vars.backup_tar_image)}`;
    case 'config':
      // Relative to /; a leading ? marks a path tarred only when it exists.
      return `config_item ${name} ${file} ${[...item.paths.map(rel), ...item.paths_if_present.map((p) => `?${rel(p)}`)].map(q).join(' ')}`;
  }
}

const SET_BODY = String.raw`
mkdir -p -- "$root/.rigger"
exec 9>>"$root/.rigger/lock"
flock -w 120 9 || fail lock "another backup run holds $root/.rigger/lock"

# A killed run's partial set: we hold the lock, so nobody is writing it.
for d in "$root"/[0-9]*_[0-9]*.partial; do
  [ -d "$d" ] || continue
  printf '@@stale %s\n' "$(basename -- "$d")"
  rm -rf -- "$d"
done

last=
for d in "$root"/[0-9]*_[0-9]*; do
  [ -f "$d/manifest.json" ] && last=$d
done
last_kb=0
[ -n "$last" ] && last_kb=$(du -sk -- "$last" | cut -f1)
need_kb=$(( last_kb * free_pct / 100 ))
[ "$need_kb" -lt "$min_free_kb" ] && need_kb=$min_free_kb
avail_kb=$(df -Pk -- "$root" | awk 'NR==2 {print $4}')
[ "$avail_kb" -ge "$need_kb" ] || fail space "only $avail_kb KiB free in $root; need $need_kb KiB (the last set took $last_kb KiB)"

stamp=$(date +%Y%m%d_%H%M%S)
while [ -e "$root/$stamp" ] || [ -e "$root/$stamp.partial" ]; do sleep 1; stamp=$(date +%Y%m%d_%H%M%S); done
work="$root/$stamp.partial"
mkdir -- "$work"
# Outside the backup root: on a full disk the reason must still be written somewhere.
err=$(mktemp)
printf '@@set %s\n' "$stamp"
`;

const PUBLISH = String.raw`
created=$(date -Iseconds)
host=$(hostname | tr -cd 'A-Za-z0-9._-')
printf '{"format":1,"set":"%s","created":"%s","host":"%s","bytes":%s,"items":[%s]}\n' "$stamp" "$created" "$host" "$total" "$items_json" > "$work/manifest.json.partial"
sync -- "$work/manifest.json.partial"
mv -- "$work/manifest.json.partial" "$work/manifest.json"
sync -- "$work"
mv -- "$work" "$root/$stamp"
published=1
sync -- "$root"
printf '@@published %s %s\n' "$stamp" "$total"
`;

export interface SetScriptInput {
  vars: BackupVars;
  items: BackupItemConfig[];
}

/** The bash command and its stdin (one secret per line, read before anything else). */
export function setCommand({ vars, items }: SetScriptInput): Command {
  const secrets: Secret[] = [];
  const reads: string[] = [];
  const calls = items.map((item) => {
    if (item.kind === 'postgres' && item.password) {
      const v = `secret_${secrets.length + 1}`;
      secrets.push(item.password);
      reads.push(`IFS= read -r ${v} || true`);
      return itemCall(item, `"$${v}"`, vars);
    }
    return itemCall(item, undefined, vars);
  });
  const script = [
    'set -euo pipefail',
    'umask 077',
    'export LC_ALL=C',
    ...reads,
    // Nothing below may read the secrets' stdin.
    'exec </dev/null',
    `root=${q(vars.backup_root)}`,
    `free_pct=${Math.round(vars.backup_free_factor * 100)}`,
    `min_free_kb=${Math.round(vars.backup_min_free_mb * 1024)}`,
    `min_bytes=${vars.backup_min_item_bytes}`,
    'work= err= published=0 total=0 items_json=',
    REMOTE_HELPERS,
    // The disk, not the empty mount point it leaves when unmounted (root-check.ts).
    rootCheckFunctions(vars.backup_root_create),
    'why=$(backup_root_problem) || fail root "$why"',
    `mark_backup_root || fail root "cannot write $root/${ROOT_MARKER}"`,
    SET_BODY,
    ...calls,
    PUBLISH,
  ].join('\n');
  const stdin = secrets.flatMap((s) => [s, '\n']);
  return sh`bash -c ${script} rigger-backup`.withStdin(...stdin);
}

export interface SetOutcome {
  set?: string;
  published: boolean;
  bytes: number;
  items: { name: string; bytes: number; sha256: string }[];
  stale: string[];
  failure?: { item: string; reason: string };
}

/** Reads the script's line protocol. */
export function parseSetOutput(stdout: string): SetOutcome {
  const out: SetOutcome = { published: false, bytes: 0, items: [], stale: [] };
  for (const line of stdout.split('\n')) {
    const [tag, ...rest] = line.split(' ');
    if (tag === '@@set') out.set = rest[0]!;
    else if (tag === '@@stale') out.stale.push(rest[0]!);
    else if (tag === '@@done') out.items.push({ name: rest[0]!, bytes: Number(rest[1]), sha256: rest[2]! });
    else if (tag === '@@published') {
      out.published = true;
      out.bytes = Number(rest[1]);
    } else if (line.startsWith('@@fail ')) {
      const body = line.slice('@@fail '.length);
      const tab = body.indexOf('\t');
      out.failure = { item: tab < 0 ? body : body.slice(0, tab), reason: tab < 0 ? '' : body.slice(tab + 1).trim() };
    }
  }
  return out;
}
