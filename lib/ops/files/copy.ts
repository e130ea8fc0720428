import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { sh, type Command } from '../../core/command.ts';
import type { Diff } from '../../core/diff.ts';
import { absolutePath, defineOp, fileMode } from '../../core/op.ts';
import { Secret } from '../../core/secret.ts';
import { attributeCommands, DIFF_LIMIT, pathStateProbe, type PathState } from './path-state.ts';

export interface CopyResult {
  path: string;
  sha256: string;
}

const schema = z
  .object({
    path: absolutePath,
    /** The file's content; a Secret is written through stdin and shown as *** in diffs. */
    content: z.union([z.string(), z.instanceof(Buffer), z.instanceof(Secret)]).optional(),
    /** A file on the controller to copy instead of content. */
    src: z.string().min(1).optional(),
    mode: fileMode.optional(),
    owner: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
  })
  .strict()
  .refine((p) => (p.content === undefined) !== (p.src === undefined), { message: 'give exactly one of content or src', path: ['content'] });

function bytesOf(content: string | Buffer | Secret): Buffer {
  if (content instanceof Secret) return Buffer.from(content.reveal(), 'utf8');
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

function isText(b: Buffer): boolean {
  return !b.includes(0) && Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/**
 * Writes a temp file beside the target, checks its checksum, fsyncs it and
 * renames it into place: a reader never sees a half-written file, and an
 * interrupted write leaves the old file untouched (the trap removes the temp).
 */
export function atomicWrite(path: string, data: Buffer | Secret, sha256: string, mode: string, owner: string | undefined): Command {
  return sh`t=$(mktemp -- "$(dirname -- ${path})/.rigger.XXXXXXXX") || exit 1
trap 'rm -f -- "$t"' EXIT
trap 'exit 143' TERM HUP INT
cat > "$t"
printf '%s  %s\n' ${sha256} "$t" | sha256sum -c --status || { echo 'content checksum mismatch after transfer' >&2; exit 1; }
chmod ${mode} -- "$t"
${owner ? sh`chown ${owner} -- "$t"` : sh`if [ -e ${path} ]; then chown "$(stat -c %u:%g -- ${path})" -- "$t"; fi`}
sync -- "$t" 2>/dev/null || true
mv -f -- "$t" ${path}
t=`.withStdin(data);
}

export const copy = defineOp({
  kind: 'files.copy',
  schema,
  describe: (p) => p.path,
  probe: (p) => pathStateProbe(p.path, true),
  decide: (p, state: PathState) => {
    const desired = p.src !== undefined ? readFileSync(p.src) : bytesOf(p.content!);
    const sha256 = createHash('sha256').update(desired).digest('hex');
    const result = { path: p.path, sha256 };
    if (state.exists && state.type !== 'file') {
      return { kind: 'fail', reason: `${p.path} is a ${state.type}, not a file` };
    }
    const contentChanged = !state.exists || state.sha256 !== sha256;
    const owner = p.owner || p.group ? `${p.owner ?? ''}${p.group ? `:${p.group}` : ''}` : undefined;
    if (contentChanged) {
      const mode = p.mode ?? state.mode ?? '0644';
      const payload = p.content instanceof Secret ? p.content : desired;
      let diff: Diff | undefined;
      const before = state.content ?? Buffer.alloc(0);
      if (desired.length <= DIFF_LIMIT && isText(desired) && (!state.exists || (state.content && isText(before)))) {
        diff = { kind: 'text', path: p.path, before: before.toString('utf8'), after: desired.toString('utf8') };
      } else {
        diff = { kind: 'summary', lines: [`${p.path}: binary or large content, sha256 ${state.sha256 ?? 'none'} -> ${sha256}`] };
      }
      return {
        kind: 'change',
        msg: state.exists ? `update ${p.path}` : `create ${p.path}`,
        diff,
        commands: [atomicWrite(p.path, payload, sha256, mode, owner)],
        result: () => result,
        checkResult: result,
      };
    }
    const attrs = attributeCommands(p.path, p, state);
    if (attrs.commands.length === 0) return { kind: 'ok', result };
    return {
      kind: 'change',
      msg: attrs.changes.join(', '),
      diff: { kind: 'summary', lines: attrs.changes.map((c) => `${p.path}: ${c}`) },
      commands: attrs.commands,
      result: () => result,
      checkResult: result,
    };
  },
});
