import { createHash } from 'node:crypto';
import { Command, sh } from '../shell/command.ts';
import type { ExecResult } from '../transport/types.ts';
import type { PathRead } from '../model/path-read.ts';

export type { PathRead };

/**
 * Batched path-state reads. Each path-state probe (lib/ops/files/path-state.ts)
 * runs `stat` and `sha256sum` (and `base64` for content) on its own path:
 * a batch of 20 such probes starts 40-60 programs on the host. Here the
 * path probes of one batch share one `stat`, one `sha256sum`, at most one
 * `readlink` and one `cat | base64` over all their paths; the controller
 * then rebuilds, byte for byte, the output each probe would have printed on
 * its own, so every op's parse() and every run-ahead guard (which re-runs
 * the single probe on the host and compares digests) sees what it sees today.
 *
 * Every count is checked (one stat line per existing path, one checksum per
 * regular file, one link target per symlink, content bytes matching sizes
 * and checksums): a path that changed between the reads, an unreadable file
 * or any failing program makes the whole group `undefined`, and the caller
 * falls back to the probes' own commands.
 */


/** The group's remote script. Sections are separated by `\n<marker> <n>\n` lines on stdout. */
export function pathGroupScript(reads: readonly PathRead[], marker: string): Command {
  const sep = (n: number) => new Command(Buffer.from(`printf '\\n%s\\n' '${marker} ${n}'`));
  const collect = reads.map((r) => sh`${r.resolve}
set -- "$@" "$p"`);
  // One "limit:unless" word per path, read back in order by rigger_pick.
  const specs = reads.map((r) => `${r.limit}:${r.unless ?? '-'}`).join(' ');
  return sh`set --
${Command.join(collect, '\n')}
nl='
'
printf '%s\\0' "$@"
${sep(0)}
M=; for p; do if [ -L "$p" ]; then M=\${M}l; elif [ -f "$p" ]; then M=\${M}f; elif [ -e "$p" ]; then M=\${M}o; else M=\${M}0; fi; done
printf '%s' "$M"
${sep(1)}
S=; case $M in *[lfo]*) S=$(stat -c '%F|%a|%U|%G|%s' -- "$@" 2>/dev/null)$nl;; esac
printf '%s' "$S"
${sep(2)}
case $M in *l*) readlink -z -- "$@" 2>/dev/null;; esac
${sep(3)}
rigger_sums() { n=$#; for p; do if [ -f "$p" ] && [ ! -L "$p" ]; then set -- "$@" "$p"; fi; done; shift $n; [ $# -eq 0 ] || sha256sum -- "$@"; }
H=; case $M in *f*) H=$(rigger_sums "$@")$nl || H=!;; esac
printf '%s' "$H"
${sep(4)}
rigger_pick() {
  n=$# k=${specs}' ' m=$M s=$S h=$H
  for p; do
    c=\${m%"\${m#?}"}; m=\${m#?}; t=\${k%% *}; k=\${k#* }
    [ "$c" = 0 ] && continue
    l=\${s%%"$nl"*}; s=\${s#*"$nl"}
    [ "$c" = f ] || continue
    x=\${h%%"$nl"*}; h=\${h#*"$nl"}; x=\${x%% *}
    if [ "\${t%%:*}" -gt 0 ] && [ "\${l##*|}" -le "\${t%%:*}" ] 2>/dev/null && [ "$x" != "\${t#*:}" ]; then set -- "$@" "$p"; fi
  done
  shift $n
  [ $# -eq 0 ] || cat -- "$@" | base64 -w0
}
case $H in !) ;; *) rigger_pick "$@";; esac
${sep(5)}`;
}

/** Splits stdout into the six sections of {@link pathGroupScript}, or undefined when one is missing. */
function sections(stdout: Buffer, marker: string): Buffer[] | undefined {
  const out: Buffer[] = [];
  let pos = 0;
  for (let n = 0; n < 6; n++) {
    const sep = Buffer.from(`\n${marker} ${n}\n`);
    const at = stdout.indexOf(sep, pos);
    if (at < 0) return undefined;
    out.push(stdout.subarray(pos, at));
    pos = at + sep.length;
  }
  return out;
}

const lines = (b: Buffer) => {
  const t = b.toString('utf8');
  return t === '' ? [] : t.slice(0, -1).split('\n');
};
const nulTerminated = (b: Buffer) => {
  const parts: Buffer[] = [];
  let pos = 0;
  for (let at = b.indexOf(0, pos); at >= 0; at = b.indexOf(0, pos)) {
    parts.push(b.subarray(pos, at));
    pos = at + 1;
  }
  return pos === b.length ? parts : undefined;
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Each probe's own output rebuilt from the group's stdout (exit 0 and no
 * stderr, as a probe that read its path prints), or undefined when anything
 * does not add up.
 */
export function splitPathGroup(r: ExecResult, reads: readonly PathRead[], marker: string): ExecResult[] | undefined {
  if (r.stderr.length > 0) return undefined;
  const s = sections(r.stdout, marker);
  if (!s) return undefined;
  const paths = nulTerminated(s[0]!);
  const mask = s[1]!.toString('ascii');
  const stats = lines(s[2]!);
  const targets = nulTerminated(s[3]!);
  const sumsText = s[4]!.toString('utf8');
  if (!paths || !targets || paths.length !== reads.length || mask.length !== reads.length || !/^[lfo0]*$/.test(mask) || sumsText === '!') return undefined;
  const count = (c: string) => [...mask].filter((m) => m === c).length;
  const sums = lines(s[4]!).map((l) => l.split(' ')[0]!);
  if (stats.length !== reads.length - count('0') || targets.length !== count('l') || sums.length !== count('f')) return undefined;
  const content = Buffer.from(s[5]!.toString('ascii'), 'base64');
  let stat = 0, target = 0, sum = 0, offset = 0;
  const out: ExecResult[] = [];
  for (let i = 0; i < reads.length; i++) {
    const read = reads[i]!;
    const parts: Buffer[] = [Buffer.from(read.leading, 'utf8')];
    if (read.echoPath) parts.push(paths[i]!, Buffer.from('\n'));
    const kind = mask[i]!;
    if (kind === '0') parts.push(Buffer.from('absent\n'));
    else {
      const line = stats[stat++]!;
      parts.push(Buffer.from(`${line}\n`), kind === 'l' ? Buffer.concat([targets[target++]!, Buffer.from('\n')]) : Buffer.from('\n'));
      if (kind === 'f') {
        const field = sums[sum++]!;
        parts.push(Buffer.from(`${field}\n`));
        const size = Number(line.slice(line.lastIndexOf('|') + 1));
        if (!Number.isSafeInteger(size)) return undefined;
        if (read.limit > 0 && size <= read.limit && field !== (read.unless ?? '-')) {
          const bytes = content.subarray(offset, offset + size);
          offset += size;
          // The bytes read must be the ones summed: a file that changed between the reads is read again.
          if (bytes.length !== size || sha256(bytes) !== field.replace(/^\\/, '')) return undefined;
          parts.push(Buffer.from(bytes.toString('base64')));
        }
        parts.push(Buffer.from('\n'));
      }
    }
    out.push({ stdout: Buffer.concat(parts), stderr: Buffer.alloc(0), code: 0, durationMs: r.durationMs });
  }
  return offset === content.length ? out : undefined;
}

/** A probe in a batch: its command, and what it reads when it is a path probe. */
export interface BatchProbe {
  command: Command;
  read?: PathRead | undefined;
}

/**
 * A probe batch with its path probes joined: the group runs first (read-only
 * probes may be reordered), the other probes after it in their order.
 * `split` gives each probe's output in the order given; undefined for the
 * path probes whose group did not add up (the caller reads them again with
 * their own commands).
 */
export function joinPathReads(probes: readonly BatchProbe[], marker: string) {
  const joined = probes.flatMap((p, i) => (p.read ? [i] : []));
  if (joined.length < 2) return { commands: probes.map((p) => p.command), split: (outs: ExecResult[]) => outs as (ExecResult | undefined)[] };
  const reads = joined.map((i) => probes[i]!.read!);
  const rest = probes.flatMap((p, i) => (p.read ? [] : [i]));
  const group = new Command(pathGroupScript(reads, `${marker}-paths`).bytes, [], joined.some((i) => probes[i]!.command.quiet));
  return {
    commands: [group, ...rest.map((i) => probes[i]!.command)],
    split: (outs: ExecResult[]): (ExecResult | undefined)[] => {
      const result: (ExecResult | undefined)[] = new Array(probes.length);
      const paths = outs[0] && outs[0].code === 0 ? splitPathGroup(outs[0], reads, `${marker}-paths`) : undefined;
      joined.forEach((i, k) => (result[i] = paths?.[k]));
      rest.forEach((i, k) => (result[i] = outs[k + 1]));
      return result;
    },
  };
}
