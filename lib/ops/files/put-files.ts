import { Command, sh, ShellFunction } from '../../core/command.ts';
import { Secret } from '../../core/secret.ts';
import { partLength, type FileStdin } from '../../core/stdin-source.ts';
import { PROCESS_STARTED_S } from '../../core/started.ts';

/**
 * The file writer: one POSIX sh function that writes any number of files
 * from one framed stdin stream, with the guarantees each write had when it
 * was its own script, and with each step done once for all files where
 * POSIX allows:
 *
 * - stdin: a line with the file count, a header line per file
 *   (`sha256 bytes mode owner parents flags path`; owner `-` keeps the old
 *   file's, parents `-` none, `+` mkdir -p, else the mode of each directory
 *   made; flags `v` (a validate command follows on the next line) and `b`
 *   (backup)), then every file's bytes in order, each read with `head -c`.
 *   Paths and validate commands are escaped (`\\` and `\n`, as
 *   sha256sum's check lines are), so any byte but NUL survives a line.
 *   Everything travels on stdin, nothing per file in the command line: a
 *   checksum in argv would show in `ps` (and the hash of a short secret can
 *   be guessed back), and the script stays the same size for 1 or 5,000
 *   files, far under Linux's 128 KiB for one argv string.
 * - Parents are made first (with their mode), then the `.rigger.XXXXXXXX`
 *   files a killed run left in the directories written are removed (only
 *   SIGKILL of the host's shell escapes the traps): rigger's own names,
 *   older than this run, by one `find` over every directory where the
 *   shell's own glob sees such a file - so none at all in the usual case.
 *   The glob costs no program, so this is done in every call rather than
 *   remembered per run on the controller: a decision is a pure function of
 *   the probe's output, and run-ahead compares commands byte for byte.
 * - Each file goes to a temp file beside its target, named before it is
 *   made (from the shell's pid and the file's index: no program runs; when
 *   the name is taken, `mktemp -u` picks one), made exclusively (noclobber)
 *   and private (umask 077; every mode is set with chmod). The name is known
 *   to the EXIT trap before the file exists, and cleared when the make
 *   fails, so the trap never removes a file that is not this call's. The
 *   file is made by `true`, not `:`: a redirection that fails on a special
 *   builtin ends dash at once.
 * - One `sha256sum -c` over every temp file; one `chown` per distinct owner
 *   given, then one `chmod` per distinct mode (in that order, as Ansible: a
 *   change of owner clears the setuid and setgid bits). An owner not given is copied from
 *   the old file (`chown --reference`, per file, as each file has its own
 *   reference) only when the old file is not already the writer's (or the
 *   directory is setgid), so a root-owned file rewritten as root costs no
 *   stat and no chown.
 * - Per file, as they cannot be shared: the validate command on the temp
 *   file (%s replaced without a program) and the backup copy (one `date`
 *   for all).
 * - One `sync` of every temp file that replaces an existing file, so a crash
 *   right after the rename cannot leave an empty file where good content
 *   was; a new file has no old content to lose, so it is not synced (an
 *   fsync costs 20-60 ms on the lab's disks).
 * - The renames last, one `mv` per file, in order. A failure or a signal
 *   before them leaves every target as it was and no temp file: the trap
 *   removes them on every way the call can end (EXIT, and HUP, INT, TERM -
 *   the wrapper's watchdog sends TERM when the channel closes - and PIPE, as
 *   a write to a closed channel would otherwise kill the shell before its
 *   EXIT trap). Only during the renames (a failing `mv` on a full or
 *   broken disk, or a signal between two of them) can the files before it
 *   be renamed and the ones after it not.
 *
 * The body is a subshell, so its traps, umask, noclobber and variables end
 * with the call. The calling shell gets traps for the same signals: it
 * still exits on them, but only once the subshell has removed its temp
 * files (with no trap it dies at once, and the wrapper waiting on it would
 * report the command ended while the cleanup still runs). The call names
 * the files it writes and their validate commands (see label()). The definition is sent
 * once per exec (see ShellFunction): the transport keeps no shell open
 * between round trips.
 */
const PUT_FILES = new ShellFunction(
  'rigger_put_files',
  `rigger_put_files() {
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE
rigger_put_files_ "$@"
}
rigger_put_files_() (
rigger_n=0
rigger_clean() {
  rigger_r=; rigger_j=1
  while [ "$rigger_j" -le "$rigger_n" ]; do
    eval "[ -z \\"\\$t_$rigger_j\\" ] || rigger_r=\\"\\$rigger_r \\\\\\"\\\\\\$t_$rigger_j\\\\\\"\\""
    rigger_j=$((rigger_j + 1))
  done
  [ -z "$rigger_r" ] || eval "rm -f -- $rigger_r"
}
rigger_unescape() {
  rigger_s=$1; rigger_u=
  while :; do
    case $rigger_s in
      *\\\\*) rigger_u=$rigger_u\${rigger_s%%\\\\*}; rigger_s=\${rigger_s#*\\\\}
        case $rigger_s in n*) rigger_u="$rigger_u
" ;; *) rigger_u=$rigger_u\${rigger_s%"\${rigger_s#?}"} ;; esac
        rigger_s=\${rigger_s#?} ;;
      *) rigger_u=$rigger_u$rigger_s; break ;;
    esac
  done
}
rigger_group() {
  rigger_g=; rigger_j=$1
  while [ "$rigger_j" -le "$rigger_n" ]; do
    eval "[ \\"\\$$2_$rigger_j\\" != \\"\\$rigger_k\\" ] || { rigger_g=\\"\\$rigger_g \\\\\\"\\\\\\$t_$rigger_j\\\\\\"\\"; $2_$rigger_j=; }"
    rigger_j=$((rigger_j + 1))
  done
}
trap rigger_clean EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE
started=$1
IFS= read -r rigger_count || { echo 'no file list on stdin' >&2; exit 1; }
i=0; sweep=; last=; backup=
while [ "$i" -lt "$rigger_count" ]; do
  i=$((i + 1))
  IFS= read -r h || { echo 'file list cut short' >&2; exit 1; }
  sum=\${h%% *}; h=\${h#* }; size=\${h%% *}; h=\${h#* }; mode=\${h%% *}; h=\${h#* }
  own=\${h%% *}; h=\${h#* }; par=\${h%% *}; h=\${h#* }; fl=\${h%% *}; pe=\${h#* }
  p=$pe; case $pe in *\\\\*) rigger_unescape "$pe"; p=$rigger_u ;; esac
  case $p in */*) d=\${p%/*}; [ -n "$d" ] || d=/ ;; *) d=. ;; esac
  v=
  case $fl in *v*) IFS= read -r v || exit 1; case $v in *\\\\*) rigger_unescape "$v"; v=$rigger_u ;; esac ;; esac
  case $fl in *b*) backup=1 ;; esac
  keep=; [ "$own" != - ] || { own=; keep=1; }
  eval "p_$i=\\$p d_$i=\\$d pe_$i=\\$pe sum_$i=\\$sum size_$i=\\$size m_$i=\\$mode o_$i=\\$own k_$i=\\$keep fl_$i=\\$fl v_$i=\\$v t_$i="
  if [ "$par" != - ] && [ ! -d "$d" ]; then
    if [ "$par" = + ]; then mkdir -p -- "$d" || exit 1
    else
      set --; a=$d
      while [ ! -e "$a" ]; do set -- "$a" "$@"; case $a in */*) a=\${a%/*}; [ -n "$a" ] || a=/ ;; *) a=. ;; esac; done
      mkdir -p -- "$d" || exit 1
      [ $# -eq 0 ] || chmod "$par" -- "$@" || exit 1
    fi
  fi
  if [ "$d" != "$last" ]; then
    last=$d
    for f in "$d"/.rigger.????????; do [ ! -e "$f" ] || sweep="$sweep \\"\\$d_$i\\""; break; done
  fi
done
rigger_n=$rigger_count
[ -z "$sweep" ] || eval "find $sweep -maxdepth 1 -type f -name '.rigger.????????' ! -newermt \\"@\\$started\\" -delete 2>/dev/null"
umask 077
list=; i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "d=\\$d_$i size=\\$size_$i pe=\\$pe_$i sum=\\$sum_$i"
  n=$(( ((i - 1) * 4194304 + $$) % 100000000 )); n=0000000$n
  t=\${d%/}/.rigger.\${n#"\${n%????????}"}
  eval "t_$i=\\$t"
  set -C
  if ! true 2>/dev/null > "$t"; then
    eval "t_$i="
    t=$(mktemp -u -- "\${d%/}/.rigger.XXXXXXXX") && eval "t_$i=\\$t" && true 2>/dev/null > "$t" || { eval "t_$i="; echo "cannot create a temp file in $d" >&2; exit 1; }
  fi
  set +C
  if [ "$size" -gt 0 ]; then head -c "$size" > "$t" || exit 1; fi
  case $pe in
    *\\\\*) case $pe in */*) e=\${pe%/*} ;; *) e=. ;; esac
      list="$list\\\\$sum  $e/\${t##*/}
" ;;
    *) list="$list$sum  $t
" ;;
  esac
  i=$((i + 1))
done
printf '%s' "$list" | sha256sum -c --status || { echo 'content checksum mismatch after transfer' >&2; exit 1; }
i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "rigger_k=\\$o_$i keep=\\$k_$i p=\\$p_$i d=\\$d_$i t=\\$t_$i"
  if [ -n "$rigger_k" ]; then rigger_group "$i" o; eval "chown \\"\\$rigger_k\\" -- $rigger_g" || exit 1
  elif [ -n "$keep" ] && [ -e "$p" ] && ! { [ -O "$p" ] && [ -G "$p" ] && [ ! -g "$d" ]; }; then chown --reference="$p" -- "$t" || exit 1
  fi
  i=$((i + 1))
done
i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "rigger_k=\\$m_$i"
  if [ -n "$rigger_k" ]; then rigger_group "$i" m; eval "chmod \\"\\$rigger_k\\" -- $rigger_g" || exit 1; fi
  i=$((i + 1))
done
i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "v=\\$v_$i t=\\$t_$i"
  if [ -n "$v" ]; then
    c=; s=$v
    while :; do case $s in *%s*) c=$c\${s%%"%s"*}$t; s=\${s#*"%s"} ;; *) c=$c$s; break ;; esac; done
    sh -c "$c" </dev/null || { echo "validation failed: '$v'" >&2; exit 1; }
  fi
  i=$((i + 1))
done
if [ -n "$backup" ]; then
  stamp=$(date +%Y-%m-%d@%H:%M:%S) || exit 1
  i=1
  while [ "$i" -le "$rigger_n" ]; do
    eval "p=\\$p_$i fl=\\$fl_$i"
    case $fl in *b*) if [ -f "$p" ]; then cp -p -- "$p" "$p.$stamp~" || exit 1; fi ;; esac
    i=$((i + 1))
  done
fi
sync=; i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "[ ! -e \\"\\$p_$i\\" ] || sync=\\"\\$sync \\\\\\"\\\\\\$t_$i\\\\\\"\\""
  i=$((i + 1))
done
[ -z "$sync" ] || eval "sync -- $sync" 2>/dev/null || true
i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "mv -f -- \\"\\$t_$i\\" \\"\\$p_$i\\"" || exit 1
  eval "t_$i="
  i=$((i + 1))
done
)`,
);

export interface PutFile {
  path: string;
  /** A FileStdin is streamed from the controller's disk, never held whole in memory. */
  data: Buffer | Secret | FileStdin;
  /** The data's sha256, hex. */
  sha256: string;
  mode: string;
  /** `user`, `user:group` or `:group`; undefined keeps the old file's. */
  owner?: string | undefined;
  /** undefined: no parents made; true: mkdir -p; a mode: given to each directory made. */
  makeParents?: boolean | string | undefined;
  validate?: string | undefined;
  backup?: boolean | undefined;
}

/** A header field: escaped as sha256sum escapes a file name, so one line holds any path. */
const escape = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

function field(name: string, value: string): string {
  if (value === '' || /\s/.test(value)) throw new TypeError(`${name} ${JSON.stringify(value)} cannot be written: it must be a non-empty word`);
  return value;
}

function header(f: PutFile): string {
  const size = partLength(f.data);
  const parents = typeof f.makeParents === 'string' ? field('parent mode', f.makeParents) : f.makeParents ? '+' : '-';
  const flags = `${f.validate ? 'v' : ''}${f.backup ? 'b' : ''}` || '-';
  const line = `${f.sha256} ${size} ${field('mode', f.mode)} ${f.owner ? field('owner', f.owner) : '-'} ${parents} ${flags} ${escape(f.path)}\n`;
  return f.validate ? `${line}${escape(f.validate)}\n` : line;
}

const LABEL_LIMIT = 4096;

/**
 * What the call writes, for people: `ps` on the host, -vvv and a failure's
 * first line show the paths and validate commands (none of them secret;
 * the function ignores these arguments). Bounded, so the script does not
 * grow with the number of files.
 */
function label(files: readonly PutFile[]): string[] {
  const words = files.flatMap((f) => [f.path, ...(f.validate ? [`validate: ${f.validate}`] : [])]);
  const shown: string[] = [];
  let size = 0;
  for (const w of words) {
    size += Buffer.byteLength(w) + 3;
    if (size > LABEL_LIMIT) return [...shown, `(${words.length - shown.length} more)`];
    shown.push(w);
  }
  return shown;
}

/** The files of each call made here, so that calls of several ops can be joined into one (ops.each). */
const calls = new WeakMap<Command, readonly PutFile[]>();

/**
 * The most files one call writes. A call hands every temp file of a step
 * (chmod, chown, sync, the cleanup's rm) to one program, and Linux refuses
 * an argument list over 2 MiB: 256 paths stay under it whatever their
 * length. dash's time also grows with the square of a call's files (its
 * variables are a list), 1.5 s at 500 files, 60 s at 5,000.
 */
export const FILES_PER_CALL = 256;

/**
 * Writes every file atomically in one call (see PUT_FILES): all or, before
 * the renames, none. More than FILES_PER_CALL files are written by
 * consecutive calls, each all or none, stopping at the first that fails.
 */
export function putFiles(files: readonly PutFile[]): Command {
  if (files.length === 0) throw new TypeError('putFiles needs at least one file');
  if (files.length > FILES_PER_CALL) {
    const chunks: Command[] = [];
    for (let i = 0; i < files.length; i += FILES_PER_CALL) chunks.push(putFiles(files.slice(i, i + FILES_PER_CALL)));
    return Command.join(chunks);
  }
  const head = `${files.length}\n${files.map(header).join('')}`;
  const command = new Command(sh`rigger_put_files ${PROCESS_STARTED_S} ${label(files)}`.body, [head, ...files.map((f) => f.data)], false, [PUT_FILES], true);
  calls.set(command, files);
  return command;
}

/** The files a command writes when it is exactly one call of {@link putFiles}. */
export function filesOf(command: Command): readonly PutFile[] | undefined {
  return calls.get(command);
}
