import { posix } from 'node:path';
import { sh } from '../../shell/command.ts';
import type { Probe } from '../../model/op.ts';
import { EDIT_LIMIT, parsePathState, pathRead, pathStateScript, type PathState } from './path-state.ts';

/**
 * Where Ansible's copy really writes, resolved on the host in the probe:
 * `dest/` or an existing directory gets the source's base name appended;
 * with follow, a symlink is replaced by the file it points to. With a
 * source on the host (remoteSrc), its mode and bytes are read as well.
 */
export interface CopyTarget {
  path: string;
  state: PathState;
  /** The host-side source, for remoteSrc. */
  src?: { mode: string; content: Buffer } | undefined;
}

export interface CopyTargetParams {
  path: string;
  src?: string | undefined;
  remoteSrc: boolean;
  follow: boolean;
}

/** withContent false: the target's bytes are not read back (a Secret's file: its diff is never shown). */
export function copyTargetProbe(p: CopyTargetParams, wantedSha256: string | undefined, withContent = true): Probe<CopyTarget> {
  const base = p.src !== undefined ? posix.basename(p.src.replace(/\/+$/, '')) : '';
  const start = p.path.endsWith('/') && base ? p.path + base : p.path;
  const src = p.remoteSrc && p.src !== undefined
    ? sh`s=${p.src}
if [ -f "$s" ] && [ "$(stat -L -c %s -- "$s")" -le ${String(EDIT_LIMIT)} ]; then printf '%s|' "$(stat -L -c %a -- "$s")"; base64 -w0 -- "$s"; echo; else echo '!'; fi`
    : sh`echo`;
  const follow = p.follow ? sh`if [ -L "$p" ]; then p=$(readlink -f -- "$p"); fi` : sh`:`;
  const resolve = sh`p=${start}
if [ -n ${base} ] && [ -d "$p" ]; then p="$p"/${base}; fi
${follow}`;
  const command = sh`${src}
${resolve}
printf '%s\\n' "$p"
${pathStateScript(withContent, wantedSha256)}`;
  return {
    command,
    // A source on the host is read in the probe's own command; otherwise the read joins the batch's.
    read: p.remoteSrc ? undefined : pathRead(resolve, withContent, wantedSha256, { leading: '\n', echoPath: true }),
    parse: (r) => {
      const out = r.stdout.toString('utf8');
      const first = out.indexOf('\n');
      const second = out.indexOf('\n', first + 1);
      const srcLine = out.slice(0, first);
      const path = out.slice(first + 1, second);
      const state = parsePathState({ ...r, stdout: Buffer.from(out.slice(second + 1), 'utf8') });
      if (srcLine === '') return { path, state };
      if (srcLine === '!') return { path, state, src: undefined };
      const [mode, b64] = srcLine.split('|') as [string, string];
      return { path, state, src: { mode: mode.padStart(4, '0'), content: Buffer.from(b64, 'base64') } };
    },
  };
}
