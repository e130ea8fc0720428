import { sh, type Command } from '../shell/command.ts';
import { quote } from '../shell/quote.ts';
import { unpackVerifiedLines } from '../backup/pull-script.ts';

/**
 * The remote scripts that bring what one recovery needs from the archive
 * host to the database's host (ops/stage.ts). The layout is the archive's
 * own (base/STAMP/{base.tar.gz,info}, wal/...), so restoreCommand reads the
 * staged copy as it would read the archive.
 */
const q = (s: string | number) => quote(String(s)).toString('utf8');

/** A file sent: its path under the directory, its size and sha256 as the archive host read them. */
export interface StagedFile {
  name: string;
  bytes: number;
  sha256: string;
}

const OUTGOING_BODY = String.raw`
set -euo pipefail
umask 077
export LC_ALL=C
dir=$1 base=$2 first=$3
[ -f "$dir/base/$base/base.tar.gz" ] && [ -f "$dir/base/$base/info" ] || { echo "no base backup $dir/base/$base on the archive host" >&2; exit 1; }
out="$dir/outgoing-$base"
rm -rf -- "$out"
mkdir -p -- "$out/base/$base" "$out/wal"
# Hard links: what pg_receivewal renames or the retention deletes meanwhile stays here as it was, at no cost in space.
ln -- "$dir/base/$base/base.tar.gz" "$dir/base/$base/info" "$out/base/$base/"
for f in "$dir"/wal/*; do
  [ -f "$f" ] || continue
  name=$(basename -- "$f")
  case $name in
    *.history) ln -- "$f" "$out/wal/$name" ;;
    # The segment pg_receivewal is writing: a copy, so the bytes hashed are the bytes sent.
    *.partial) [[ "${'$'}{name%.partial}" < "$first" ]] || cp -- "$f" "$out/wal/$name" ;;
    *) if [[ ${'$'}{#name} -eq 24 && ! "$name" < "$first" ]]; then ln -- "$f" "$out/wal/$name"; fi ;;
  esac
done
printf '@@out %s\n' "$out"
cd -- "$out"
find base wal -type f -printf '%s %p\n' | sort -k2 | while read -r size name; do
  printf '@@file %s %s %s\n' "$size" "$(sha256sum -- "$name" | cut -d' ' -f1)" "$name"
done
`;

/** On the archive host: the base backup and the WAL from its start segment on, linked into ARCHIVE/outgoing-BASE, listed with sizes and sha256. */
export function outgoingCommand(archiveDir: string, base: string, startWal: string): Command {
  return sh`bash -c ${OUTGOING_BODY} rigger-pitr-outgoing ${archiveDir} ${base} ${startWal}`.quietly();
}

export function parseOutgoing(stdout: string): { dir: string; files: StagedFile[] } {
  let dir = '';
  const files: StagedFile[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('@@out ')) dir = line.slice(6).trim();
    const m = /^@@file (\d+) ([0-9a-f]{64}) (\S+)$/.exec(line);
    if (m) files.push({ bytes: Number(m[1]), sha256: m[2]!, name: m[3]! });
  }
  return { dir, files };
}

/** On the archive host, after the transfer (whatever its outcome): the links go. */
export function outgoingCleanupCommand(outDir: string): Command {
  return sh`rm -rf -- ${outDir}`;
}

/**
 * On the database's host, reading the tar stream on stdin: extract into
 * DIR.partial, check every file's sha256 against the archive host's list
 * and that no other file came, then rename it to DIR. Any failure or a kill
 * removes DIR.partial, so a half-sent archive is never taken for a whole
 * one. Prints `@@staged` on success, `@@bad WHY` when the bytes did not verify.
 */
export function stageInCommand(dir: string, files: readonly StagedFile[]): Command {
  const script = [
    'set -euo pipefail',
    'umask 077',
    'export LC_ALL=C',
    `dir=${q(dir)}`,
    'part="$dir.partial"',
    'mkdir -p -- "$(dirname -- "$dir")"',
    'rm -rf -- "$part" "$dir"',
    `trap 'rm -rf -- "$part"' EXIT`,
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM",
    ...unpackVerifiedLines(files, { against: "the archive host's", count: 'files' }),
    'cd /',
    'mv -- "$part" "$dir"',
    'trap - EXIT',
    'echo @@staged',
  ].join('\n');
  return sh`bash -c ${script} rigger-pitr-stage`;
}

/** On the database's host after the recovery: the staged copy goes (the archive host keeps the archive). */
export function unstageCommand(dir: string): Command {
  return sh`rm -rf -- ${dir} ${`${dir}.partial`}`;
}
