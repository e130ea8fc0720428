import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { sh, type Command } from '../../core/command.ts';
import type { Decision } from '../../core/op.ts';
import type { Diff } from '../../core/diff.ts';
import { CONTENT_HIDDEN, Secret } from '../../core/secret.ts';
import { PROCESS_STARTED_S } from '../../core/started.ts';
import { attributeCommands, DIFF_LIMIT, type PathState } from './path-state.ts';

export interface FileResult {
  path: string;
  sha256: string;
}

export interface WriteOptions {
  mode?: string | undefined;
  owner?: string | undefined;
  group?: string | undefined;
  /**
   * A command run on the temp file before it replaces the real one, with %s
   * standing for the temp file's path (`sshd -t -f %s`, `visudo -cf %s`).
   * When it fails, the real file is left as it was.
   */
  validate?: string | undefined;
  /** Create missing parent directories (Ansible's create: true does); a mode string is given to each one created. */
  makeParents?: boolean | string | undefined;
  /** Keep the old file as PATH.YYYY-MM-DD@HH:MM:SS~ before replacing it, as Ansible's backup: true. */
  backup?: boolean | undefined;
}

function isText(b: Buffer): boolean {
  return !b.includes(0) && Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/**
 * Removes the `.rigger.XXXXXXXX` temp files a killed run left beside this
 * target: rigger's own name pattern only, only older than this run. (Stale
 * payload dirs in $TMPDIR are the SSH transport's to sweep, once a run.)
 */
function sweepStale(dir: string): Command {
  return sh`find ${dir} -maxdepth 1 -type f -name '.rigger.????????' ! -newermt ${`@${PROCESS_STARTED_S}`} -delete 2>/dev/null`;
}

/**
 * Writes a temp file beside the target, checks its checksum, validates it,
 * fsyncs it and renames it into place: a reader never sees a half-written
 * file, and an interrupted or invalid write leaves the old file untouched.
 *
 * The temp file is removed on every way the script can end: normal exit,
 * failure, TERM/HUP/INT (the wrapper's watchdog sends TERM when the channel
 * closes) and PIPE (a write to a closed channel would otherwise kill the
 * shell before its EXIT trap). The name is chosen (mktemp -u) and known to
 * the trap before the file is made, exclusively (noclobber) and private
 * (umask 077, left on: every mode is then set with chmod): with
 * `t=$(mktemp)`, a TERM between the file's creation and the assignment
 * left it behind. The name comes from the shell's pid, unique among live
 * processes, so no program runs to make it; when a file of that name is
 * there already (a dead run's, another host's on a shared disk), mktemp
 * picks one. The old file's owner is copied only when it is not already
 * the writer's (the temp file has the writer's owner and group, unless
 * the directory is setgid), so a root-owned file rewritten as root costs
 * no stat and no chown. The file is made by `true`, not `:`: a redirection
 * that fails on a special builtin ends dash at once, trap and all, with $t
 * naming a file that is not ours. Only SIGKILL of the host's shell escapes a
 * trap, so the script first removes `.rigger.XXXXXXXX` files in the same
 * directory that are older than this run: rigger's own pattern only.
 *
 * The checksum travels as the first line of stdin, never in the command
 * line: argv is world-readable in `ps`, and the hash of a short secret can
 * be guessed back. The fsync is there so that a crash right after the
 * rename cannot leave an empty file where good content was; a new file has
 * no old content to lose (the next run rewrites a torn one), so it is not
 * synced: an fsync costs 20-60 ms on the lab's disks.
 */
export function atomicWrite(path: string, data: Buffer | Secret, sha256: string, mode: string, opts: WriteOptions): Command {
  const owner = opts.owner || opts.group ? `${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}` : undefined;
  const validate = opts.validate
    ? sh`v=$(printf '%s' ${opts.validate} | sed "s|%s|$t|g") && sh -c "$v" || { echo "validation failed: ${opts.validate}" >&2; exit 1; }`
    : sh`:`;
  const dir = posix.dirname(path);
  const parents =
    typeof opts.makeParents === 'string'
      ? sh`set --; d=${dir}; while [ ! -e "$d" ]; do set -- "$d" "$@"; d=$(dirname -- "$d"); done
mkdir -p -- ${dir} || exit 1
[ $# -eq 0 ] || chmod ${opts.makeParents} -- "$@" || exit 1`
      : opts.makeParents
        ? sh`mkdir -p -- ${dir} || exit 1`
        : sh`:`;
  const backup = opts.backup ? sh`if [ -f ${path} ]; then cp -p -- ${path} ${`${path}.`}"$(date +%Y-%m-%d@%H:%M:%S)~" || exit 1; fi` : sh`:`;
  return sh`${parents}
${sweepStale(dir)}
t=
trap 'if [ -n "$t" ]; then rm -f -- "$t"; fi' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE
IFS= read -r want || exit 1
n=0000000$$; t=${dir}/.rigger.\${n#"\${n%????????}"}
umask 077; set -C
true 2>/dev/null > "$t" || { t=$(mktemp -u -- ${`${dir}/.rigger.XXXXXXXX`}) && true 2>/dev/null > "$t"; } || { echo "cannot create a temp file in "${dir} >&2; t=; exit 1; }
set +C
cat > "$t"
printf '%s  %s\n' "$want" "$t" | sha256sum -c --status || { echo 'content checksum mismatch after transfer' >&2; exit 1; }
chmod ${mode} -- "$t" || exit 1
${owner ? sh`chown ${owner} -- "$t" || exit 1` : sh`if [ -e ${path} ] && ! { [ -O ${path} ] && [ -G ${path} ] && [ ! -g ${dir} ]; }; then chown --reference=${path} -- "$t" || exit 1; fi`}
${validate}
${backup}
if [ -e ${path} ]; then sync -- "$t" 2>/dev/null || true; fi
mv -f -- "$t" ${path}
t=`.withStdin(`${sha256}\n`, data);
}

function hiddenDiff(path: string): Diff {
  return { kind: 'summary', lines: [`--- ${path} (before)`, `+++ ${path} (after)`, `-${CONTENT_HIDDEN}`, `+${CONTENT_HIDDEN}`] };
}

/**
 * The decision shared by every op that owns a file's content (copy,
 * template, line, block, JSON merge): write when the checksum differs,
 * else fix attributes, else ok. The diff is text, or JSON when given.
 */
export function decideFileContent(
  path: string,
  desired: Buffer,
  state: PathState,
  opts: WriteOptions & { secret?: Secret | undefined; diff?: Diff | undefined },
): Decision<FileResult> {
  const sha256 = createHash('sha256').update(desired).digest('hex');
  const result = { path, sha256 };
  if (state.exists && state.type !== 'file') return { kind: 'fail', reason: `${path} is a ${state.type}, not a file` };
  if (!state.exists || state.sha256 !== sha256) {
    const mode = opts.mode ?? state.mode ?? '0644';
    const before = state.content ?? Buffer.alloc(0);
    // A secret's file is never shown, nor its checksum: the same line on both sides.
    let diff = opts.secret ? hiddenDiff(path) : opts.diff;
    if (!diff) {
      const readable = desired.length <= DIFF_LIMIT && isText(desired) && (!state.exists || (state.content !== undefined && isText(before)));
      diff = readable
        ? { kind: 'text', path, before: before.toString('utf8'), after: desired.toString('utf8') }
        : { kind: 'summary', lines: [`${path}: binary or large content, sha256 ${state.sha256 ?? 'none'} -> ${sha256}`] };
    }
    return {
      kind: 'change',
      msg: state.exists ? `update ${path}` : `create ${path}`,
      diff,
      commands: [atomicWrite(path, opts.secret ?? desired, sha256, mode, opts)],
      result: () => result,
      checkResult: result,
    };
  }
  const attrs = attributeCommands(path, opts, state);
  if (attrs.commands.length === 0) return { kind: 'ok', result };
  return {
    kind: 'change',
    msg: attrs.changes.join(', '),
    diff: { kind: 'summary', lines: attrs.changes.map((c) => `${path}: ${c}`) },
    commands: attrs.commands,
    result: () => result,
    checkResult: result,
  };
}
