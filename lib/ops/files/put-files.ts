import { Command, sh, ShellFunction } from '../../shell/command.ts';
import { Secret } from '../../shell/secret.ts';
import { partLength, type FileStdin } from '../../shell/stdin-source.ts';
import { tempName } from './temp-name.ts';
import { validateWords } from './validate-words.ts';

/**
 * The file writer: one POSIX sh function that writes any number of files
 * from one framed stdin stream, with the guarantees each write had when it
 * was its own script, and with each step done once for all files where
 * POSIX allows:
 *
 * - stdin: a line with the file count, a header line per file
 *   (`sha256 bytes mode owner parents flags temp path`; owner `-` keeps the
 *   old file's, parents `-` none, `+` mkdir -p, else the mode of each
 *   directory made; temp the temp file's name (temp-name.ts); flags `v` (a
 *   validate command follows on the next two lines: its words as shell text
 *   (validate-words.ts), then as given, for messages) and `b` (backup)),
 *   then every file's bytes in order, each read with `head -c`. Paths and
 *   validate commands are escaped (`\\` and `\n`, as sha256sum's check lines
 *   are), so any byte but NUL survives a line. Everything travels on stdin,
 *   nothing per file in the command line: a checksum in argv would show in
 *   `ps` (and the hash of a short secret can be guessed back), so would the
 *   temp names, and the script stays the same size for 1 or 5,000 files, far
 *   under Linux's 128 KiB for one argv string.
 * - Parents are made first (with their mode), then the `.rigger.XXXXXXXX`
 *   files a killed run left in the directories written are removed (only
 *   SIGKILL of the host's shell escapes the traps): rigger's own names, not
 *   modified for ten minutes by the host's own clock (never the
 *   controller's: the two clocks can differ), by one `find` over every
 *   directory where the shell's own glob sees such a file - so none at all
 *   in the usual case. Ten minutes, not one: another run writing the same
 *   directory leaves a temp file untouched while its later files arrive and
 *   while it checks, validates and syncs; were one swept, that run fails
 *   (its rename finds no file), it never writes a wrong file. The glob costs
 *   no program, so this is done in every call rather than remembered per run
 *   on the controller: a decision is a pure function of the probe's output,
 *   and run-ahead compares commands byte for byte.
 * - Each file goes to a temp file beside its target whose name another user
 *   cannot guess (temp-name.ts; when something already has that name, even
 *   a dangling link, `mktemp -u` picks another), made exclusively
 *   (noclobber, so O_EXCL, which never follows a link) and private (umask
 *   077; every mode is set with chmod). noclobber still opens a non-regular
 *   file that appeared under the name in between, so the shell keeps the
 *   file open and tests the open file itself (`/dev/fd/N`), not the name,
 *   and stops unless it is the regular file just made. From then on the file
 *   is reached only through that open descriptor: its bytes are written, its
 *   checksum read, its owner and mode set through `/dev/fd/N`, so a link put
 *   in its place later is never written to, read or chmodded. dash has
 *   descriptors 3 to 9 only: the files go through in groups of seven. The
 *   name is known to the EXIT trap before the file exists, and cleared when
 *   the make fails, so the trap never removes a file that is not this
 *   call's. `command exec`: a redirection that fails on a special builtin
 *   would end dash at once.
 * - Per group of seven: one `sha256sum -c`; one `chown` per distinct owner
 *   given, then one `chmod` per distinct mode (in that order, as Ansible: a
 *   change of owner clears the setuid and setgid bits). An owner not given is copied from
 *   the old file (`chown --reference`, per file, as each file has its own
 *   reference) only when the old file is not already the writer's (or the
 *   directory is setgid), so a root-owned file rewritten as root costs no
 *   stat and no chown.
 * - Per file, as they cannot be shared: the validate command on the temp
 *   file's path, run with no shell (its words, `%s` made one word by
 *   validate-words.ts, exec'd from a subshell: no program but the command),
 *   and the backup copy (one `date` for all). The backup's name can be
 *   guessed to the second, so `cp --remove-destination`: whatever is at
 *   that name (a planted link to a FIFO) is removed, not written through,
 *   and the copy is created exclusively (GNU cp then opens with O_EXCL).
 * - One `sync` of every temp file that replaces an existing file, so a crash
 *   right after the rename cannot leave an empty file where good content
 *   was; a sync that fails stops the call before any rename. A new file has
 *   no old content to lose, so it is not synced (an fsync costs 20-60 ms on
 *   the lab's disks).
 * - Before the renames every temp name must still be a regular file, not a
 *   link (the shell tests cost no program): a name replaced since it was made
 *   fails the call rather than be renamed onto a target.
 * - The renames last, one `mv` per file, in order. A failure or a signal
 *   before them leaves every target as it was and no temp file: the trap
 *   removes them on every way the call can end (EXIT, and HUP, INT, TERM -
 *   the wrapper's watchdog sends TERM when the channel closes - and PIPE, as
 *   a write to a closed channel would otherwise kill the shell before its
 *   EXIT trap). Only during the renames (a failing `mv` on a full or
 *   broken disk, or a signal between two of them) can the files before it
 *   be renamed and the ones after it not.
 *
 * The body is a subshell, so its traps, umask, noclobber, descriptors and
 * variables end with the call. The calling shell gets traps for the same
 * signals: it still exits on them, but only once the subshell has removed
 * its temp files (with no trap it dies at once, and the wrapper waiting on
 * it would report the command ended while the cleanup still runs). The call
 * names the files it writes and their validate commands (see label()). The
 * definition is sent once per exec (see ShellFunction): the transport keeps
 * no shell open between round trips.
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
  while [ "$rigger_j" -le "$2" ]; do
    eval "[ \\"\\$$3_$rigger_j\\" != \\"\\$rigger_k\\" ] || { rigger_g=\\"\\$rigger_g /dev/fd/\\$f_$rigger_j\\"; $3_$rigger_j=; }"
    rigger_j=$((rigger_j + 1))
  done
}
trap rigger_clean EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE
IFS= read -r rigger_count || { echo 'no file list on stdin' >&2; exit 1; }
i=0; sweep=; last=; backup=
while [ "$i" -lt "$rigger_count" ]; do
  i=$((i + 1))
  IFS= read -r h || { echo 'file list cut short' >&2; exit 1; }
  sum=\${h%% *}; h=\${h#* }; size=\${h%% *}; h=\${h#* }; mode=\${h%% *}; h=\${h#* }
  own=\${h%% *}; h=\${h#* }; par=\${h%% *}; h=\${h#* }; fl=\${h%% *}; h=\${h#* }; tn=\${h%% *}; p=\${h#* }
  case $p in *\\\\*) rigger_unescape "$p"; p=$rigger_u ;; esac
  case $p in */*) d=\${p%/*}; [ -n "$d" ] || d=/ ;; *) d=. ;; esac
  v=; vt=
  case $fl in *v*) IFS= read -r v && IFS= read -r vt || exit 1
    case $v in *\\\\*) rigger_unescape "$v"; v=$rigger_u ;; esac
    case $vt in *\\\\*) rigger_unescape "$vt"; vt=$rigger_u ;; esac ;; esac
  case $fl in *b*) backup=1 ;; esac
  keep=; [ "$own" != - ] || { own=; keep=1; }
  eval "p_$i=\\$p d_$i=\\$d sum_$i=\\$sum size_$i=\\$size m_$i=\\$mode o_$i=\\$own k_$i=\\$keep fl_$i=\\$fl v_$i=\\$v vt_$i=\\$vt tn_$i=\\$tn t_$i="
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
[ -z "$sweep" ] || eval "find $sweep -maxdepth 1 -type f -name '.rigger.????????' -mmin +10 -delete 2>/dev/null"
umask 077
i=1
while [ "$i" -le "$rigger_n" ]; do
  first=$i; fd=3; list=
  while [ "$fd" -le 9 ] && [ "$i" -le "$rigger_n" ]; do
    eval "d=\\$d_$i size=\\$size_$i sum=\\$sum_$i tn=\\$tn_$i"
    t=\${d%/}/.rigger.$tn
    if [ -e "$t" ] || [ -L "$t" ]; then
      t=$(mktemp -u -- "\${d%/}/.rigger.XXXXXXXX") || { echo "cannot name a temp file in $d" >&2; exit 1; }
    fi
    eval "t_$i=\\$t f_$i=$fd"
    set -C
    eval "command exec $fd>\\"\\$t\\"" || { eval "t_$i="; echo "cannot create a temp file in $d" >&2; exit 1; }
    set +C
    [ -f /dev/fd/$fd ] || { eval "t_$i="; echo "temp file $t is not the regular file just made (replaced while it was made, or no /dev/fd): nothing written" >&2; exit 1; }
    if [ "$size" -gt 0 ]; then eval "head -c \\"\\$size\\" >&$fd" || exit 1; fi
    list="$list$sum  /dev/fd/$fd
"
    i=$((i + 1)); fd=$((fd + 1))
  done
  last=$((i - 1))
  printf '%s' "$list" | sha256sum -c --status || { echo 'content checksum mismatch after transfer' >&2; exit 1; }
  j=$first
  while [ "$j" -le "$last" ]; do
    eval "rigger_k=\\$o_$j keep=\\$k_$j p=\\$p_$j d=\\$d_$j n=\\$f_$j"
    if [ -n "$rigger_k" ]; then rigger_group "$j" "$last" o; eval "chown \\"\\$rigger_k\\" -- $rigger_g" || exit 1
    elif [ -n "$keep" ] && [ -e "$p" ] && ! { [ -O "$p" ] && [ -G "$p" ] && [ ! -g "$d" ]; }; then chown --reference="$p" -- /dev/fd/$n || exit 1
    fi
    j=$((j + 1))
  done
  j=$first
  while [ "$j" -le "$last" ]; do
    eval "rigger_k=\\$m_$j"
    if [ -n "$rigger_k" ]; then rigger_group "$j" "$last" m; eval "chmod \\"\\$rigger_k\\" -- $rigger_g" || exit 1; fi
    j=$((j + 1))
  done
  j=3
  while [ "$j" -lt "$fd" ]; do eval "exec $j>&-"; j=$((j + 1)); done
done
i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "v=\\$v_$i vt=\\$vt_$i rigger_t=\\$t_$i"
  if [ -n "$v" ]; then
    eval "set -- $v"
    ( exec "$@" ) </dev/null || { echo "validation failed: '$vt'" >&2; exit 1; }
  fi
  i=$((i + 1))
done
if [ -n "$backup" ]; then
  stamp=$(date +%Y-%m-%d@%H:%M:%S) || exit 1
  i=1
  while [ "$i" -le "$rigger_n" ]; do
    eval "p=\\$p_$i fl=\\$fl_$i"
    case $fl in *b*) if [ -f "$p" ]; then cp -p --remove-destination -- "$p" "$p.$stamp~" || exit 1; fi ;; esac
    i=$((i + 1))
  done
fi
sync=; i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "[ ! -e \\"\\$p_$i\\" ] || sync=\\"\\$sync \\\\\\"\\\\\\$t_$i\\\\\\"\\""
  i=$((i + 1))
done
[ -z "$sync" ] || eval "sync -- $sync" || { echo 'sync failed: the new contents may not be on disk, so no file was replaced' >&2; exit 1; }
i=1
while [ "$i" -le "$rigger_n" ]; do
  eval "t=\\$t_$i"
  [ -f "$t" ] && [ ! -L "$t" ] || { echo "temp file $t was replaced before its rename: nothing written" >&2; exit 1; }
  i=$((i + 1))
done
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

/** A file's header line (with its validate lines), `index` its place in the call, from 1. */
function header(f: PutFile, index: number): string {
  const size = partLength(f.data);
  const parents = typeof f.makeParents === 'string' ? field('parent mode', f.makeParents) : f.makeParents ? '+' : '-';
  const flags = `${f.validate ? 'v' : ''}${f.backup ? 'b' : ''}` || '-';
  const line = `${f.sha256} ${size} ${field('mode', f.mode)} ${f.owner ? field('owner', f.owner) : '-'} ${parents} ${flags} ${tempName(f.path, index)} ${escape(f.path)}\n`;
  return f.validate ? `${line}${escape(validateWords(f.validate))}\n${escape(f.validate)}\n` : line;
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
  const head = `${files.length}\n${files.map((f, i) => header(f, i + 1)).join('')}`;
  const command = new Command(sh`rigger_put_files ${label(files)}`.body, [head, ...files.map((f) => f.data)], false, [PUT_FILES], true);
  calls.set(command, files);
  return command;
}

/** The files a command writes when it is exactly one call of {@link putFiles}. */
export function filesOf(command: Command): readonly PutFile[] | undefined {
  return calls.get(command);
}
