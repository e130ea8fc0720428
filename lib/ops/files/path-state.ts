import { Command, sh } from '../../shell/command.ts';
import type { Probe } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import type { PathRead } from '../../model/path-read.ts';

/** What a path is on the host, read with one probe. */
export interface PathState {
  exists: boolean;
  type?: 'file' | 'directory' | 'link' | 'other';
  /** Four octal digits, e.g. 0644. */
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
  linkTarget?: string;
  sha256?: string;
  /** The file's bytes, when it is small enough to diff. */
  content?: Buffer;
}

/** Files up to this size are read back for --diff; larger ones are compared by checksum only. */
export const DIFF_LIMIT = 64 * 1024;

/** Ops that edit a file (line, block, JSON) must read all of it, up to this size. */
export const EDIT_LIMIT = 4 * 1024 * 1024;

/**
 * Reads a path's kind and attributes; with content, the bytes of a file up to
 * the limit (DIFF_LIMIT for true). `unlessSha256`: the content the op wants;
 * a file that already has it is not read back (its content is only wanted
 * for a diff, and there is none).
 */
export function pathStateProbe(path: string, withContent: boolean | number, unlessSha256?: string): Probe<PathState> {
  const resolve = sh`p=${path}`;
  return {
    command: sh`${resolve}
${pathStateScript(withContent, unlessSha256)}`,
    parse: parsePathState,
    read: pathRead(resolve, withContent, unlessSha256),
  };
}

const contentLimit = (withContent: boolean | number) => (withContent === true ? DIFF_LIMIT : withContent === false ? 0 : withContent);
const validSha256 = (sha: string | undefined) => (sha !== undefined && /^[0-9a-f]{64}$/.test(sha) ? sha : undefined);

/**
 * The same read declared for the batch (runner/path-batch.ts), which rebuilds
 * exactly what pathStateScript prints. `resolve` sets $p; `before`: what the
 * probe prints ahead of the state (copy-target.ts).
 */
export function pathRead(resolve: Command, withContent: boolean | number, unlessSha256?: string, before = { leading: '', echoPath: false }): PathRead {
  return { resolve, ...before, limit: contentLimit(withContent), unless: validSha256(unlessSha256) };
}

/** The probe's script for the path in the shell variable p (set by the caller, which may resolve it first). */
export function pathStateScript(withContent: boolean | number, unlessSha256?: string): Command {
  const limit = contentLimit(withContent);
  const valid = validSha256(unlessSha256);
  const unless = valid ? ` && [ "$1" != ${valid} ]` : '';
  // Few processes per path: one stat, one sha256sum, and base64 only when the content is wanted.
  const content = limit > 0 ? `if [ "\${s##*|}" -le ${limit} ]${unless}; then base64 -w0 -- "$p"; fi` : ':';
  return sh`if [ -L "$p" ] || [ -e "$p" ]; then
  s=$(stat -c '%F|%a|%U|%G|%s' -- "$p") || exit 1
  echo "$s"
  if [ -L "$p" ]; then readlink -- "$p"; else echo; fi
  if [ -f "$p" ] && [ ! -L "$p" ]; then
    set -- $(sha256sum -- "$p"); echo "$1"
    ${new Command(Buffer.from(content))}
    echo
  fi
else
  echo absent
fi`;
}

export function parsePathState(r: ExecResult): PathState {
  const lines = r.stdout.toString('utf8').split('\n');
  if (lines[0] === 'absent') return { exists: false };
  const [kind, mode, owner, group, size] = (lines[0] ?? '').split('|');
  if (kind === undefined || mode === undefined) throw new Error(`cannot read the state of the path: ${r.stderr.toString().trim() || lines[0]}`);
  const type = kind === 'regular file' || kind === 'regular empty file' ? 'file' : kind === 'directory' ? 'directory' : kind === 'symbolic link' ? 'link' : 'other';
  const state: PathState = { exists: true, type, mode: mode.padStart(4, '0'), owner: owner!, group: group!, size: Number(size) };
  if (type === 'link') state.linkTarget = lines[1] ?? '';
  if (type === 'file') {
    state.sha256 = lines[2] ?? '';
    const b64 = lines[3] ?? '';
    if (b64 !== '' || state.size === 0) state.content = Buffer.from(b64, 'base64');
  }
  return state;
}

/** chmod/chown commands for the attributes that differ. */
export function attributeCommands(
  path: string,
  want: { mode?: string | undefined; owner?: string | undefined; group?: string | undefined },
  have: PathState,
): { commands: Command[]; changes: string[] } {
  const commands: Command[] = [];
  const changes: string[] = [];
  const modeDiffers = want.mode && want.mode !== have.mode;
  if (modeDiffers) changes.push(`mode ${have.mode ?? 'none'} -> ${want.mode}`);
  const ownerDiffers = want.owner && want.owner !== have.owner;
  const groupDiffers = want.group && want.group !== have.group;
  if (ownerDiffers || groupDiffers) {
    const spec = `${ownerDiffers ? want.owner : ''}${groupDiffers ? `:${want.group}` : ''}`;
    commands.push(sh`chown -h ${spec} -- ${path}`);
    if (ownerDiffers) changes.push(`owner ${have.owner} -> ${want.owner}`);
    if (groupDiffers) changes.push(`group ${have.group} -> ${want.group}`);
  }
  // The mode after the owner (as Ansible): a change of owner clears the setuid and setgid bits.
  if (modeDiffers && want.mode) commands.push(sh`chmod ${want.mode} -- ${path}`);
  return { commands, changes };
}
