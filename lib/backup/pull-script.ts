import { sh, type Command } from '../shell/command.ts';
import { quote } from '../shell/quote.ts';

const q = (s: string | number) => quote(String(s)).toString('utf8');

/** GNU tar with one 512-byte block per record: its output's length is known from the file sizes alone. */
const TAR_FLAGS = '-b 1 --format=gnu';

/** A file of the set, as the source states it. */
export interface PulledFile {
  name: string;
  bytes: number;
  sha256: string;
}

/**
 * The exact length of `tar -cf - -b 1 --format=gnu` over these files: a
 * 512-byte header per file, its content padded to 512, two zero blocks at
 * the end, no record padding (one block per record). A name of 100 bytes
 * or more would take an extra long-name header: set file names never do
 * (the manifest's names are short words), and such a name is refused.
 */
export function tarLength(files: readonly { name: string; bytes: number }[]): number {
  let n = 1024;
  for (const f of files) {
    if (Buffer.byteLength(f.name) >= 100) throw new Error(`${f.name}: a set file name of 100 bytes or more is not supported`);
    n += 512 + Math.ceil(f.bytes / 512) * 512;
  }
  return n;
}

/** On the source: the set's files as one tar stream on stdout, in the given order. */
export function tarOutCommand(dir: string, files: readonly string[]): Command {
  return sh`tar -cf - ${TAR_FLAGS.split(' ')} -C ${dir} -- ${files}`;
}

/** On the source: the manifest's bytes (base64) and the size of each file it will send. */
export function sourceReadCommand(dir: string): Command {
  return sh`cd -- ${dir} && [ -f manifest.json ] && base64 -w0 < manifest.json && echo && stat -c '%s %n' -- *`;
}

/**
 * The receiving half both transfers share (a set's pull, PITR's staging):
 * the tar from stdin unpacked into "$part" (made here; the caller's trap
 * removes it), every file's sha256 checked against what the sender listed,
 * and nothing else arrived (`entries`: any file or directory; `files`:
 * regular files, for a tree with directories). Leaves the shell in "$part";
 * a mismatch prints `@@bad WHY` and exits 3.
 */
export function unpackVerifiedLines(files: readonly { name: string; sha256: string }[], o: { against: string; count: 'entries' | 'files' }): string[] {
  const find = o.count === 'entries' ? 'find . -mindepth 1' : 'find . -type f';
  return [
    'mkdir -- "$part"',
    `tar -xf - ${TAR_FLAGS} --no-same-owner -C "$part" -- ${files.map((f) => q(f.name)).join(' ')}`,
    'cd -- "$part"',
    String.raw`check() {
  local s
  [ -f "$1" ] || { echo "@@bad $1 is missing after the transfer"; exit 3; }
  s=$(sha256sum -- "$1" | cut -d' ' -f1)
  [ "$s" = "$2" ] || { echo "@@bad $1: sha256 $s differs from ` + o.against + String.raw` $2"; exit 3; }
}`,
    ...files.map((f) => `check ${q(f.name)} ${q(f.sha256)}`),
    `n=$(${find} | wc -l); [ "$n" -eq ${files.length} ] || { echo "@@bad $n ${o.count} where ${files.length} files were sent"; exit 3; }`,
  ];
}

/**
 * On the destination, reading the tar stream on stdin: under a lock on the
 * parent directory (two pulls into one place never interleave), extract
 * into DIR.partial, check every file's sha256 against what the source's
 * manifest says (and the manifest's own against the bytes read from the
 * source), refuse any other file, then rename DIR.partial to DIR (an older
 * DIR, a damaged copy being repaired, is replaced only now). Any failure or
 * a kill (the transfer cut) removes DIR.partial; stdout ends with
 * `@@pulled` on success, `@@bad WHY` when the bytes did not verify.
 */
export function pullInCommand(dir: string, files: readonly PulledFile[]): Command {
  const checks = files.map((f) => `check ${q(f.name)} ${q(f.sha256)}`);
  const script = [
    'set -euo pipefail',
    'umask 077',
    'export LC_ALL=C',
    `dir=${q(dir)}`,
    'part="$dir.partial" parent=$(dirname -- "$dir")',
    'mkdir -p -- "$parent"',
    'exec 9<"$parent"',
    'flock -w 600 9 || { echo "another copy into $parent holds its lock" >&2; exit 1; }',
    // A run killed between its two renames left the old set only as DIR.replaced: put it back, never delete it
    // before a new copy verified (it may be the only copy of that set).
    'if [ ! -e "$dir" ] && [ -e "$dir.replaced" ]; then mv -- "$dir.replaced" "$dir"; fi',
    'rm -rf -- "$part" "$dir.replaced"',
    `trap 'rm -rf -- "$part"' EXIT`,
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM",
    ...unpackVerifiedLines(files, { against: "the source manifest's", count: 'entries' }),
    'sync -- *',
    'cd /',
    'old=',
    'if [ -e "$dir" ]; then old="$dir.replaced"; mv -- "$dir" "$old"; fi',
    'mv -- "$part" "$dir"',
    'trap - EXIT',
    '[ -z "$old" ] || rm -rf -- "$old"',
    'sync -- "$parent"',
    'echo @@pulled',
  ].join('\n');
  return sh`bash -c ${script} rigger-pull`;
}

/** After a failed transfer: what a SIGKILLed destination could not remove, taken once its lock is free. */
export function pullCleanupCommand(dir: string): Command {
  return sh`parent=$(dirname -- ${dir}); [ -d "$parent" ] || exit 0; exec 9<"$parent"; flock -w 600 9 && rm -rf -- ${`${dir}.partial`}`;
}
