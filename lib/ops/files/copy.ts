import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from '../../core/zod.ts';
import { absolutePath, defineOp, fileMode } from '../../core/op.ts';
import { Secret } from '../../core/secret.ts';
import { pathStateProbe, type PathState } from './path-state.ts';
import { decideFileContent, type FileResult } from './write-file.ts';

export type CopyResult = FileResult;

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
    validate: z.string().includes('%s', { message: 'must contain %s for the file to check' }).optional(),
  })
  .strict()
  .refine((p) => (p.content === undefined) !== (p.src === undefined), { message: 'give exactly one of content or src', path: ['content'] });

function bytesOf(content: string | Buffer | Secret): Buffer {
  if (content instanceof Secret) return Buffer.from(content.reveal(), 'utf8');
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/**
 * The checksum the probe may skip reading content for. Never for a Secret: a
 * password's hash in a command line could be guessed back from the host's
 * process list. Not for src either: the file is read when deciding.
 */
function wantedSha256(p: { content?: string | Buffer | Secret | undefined }): string | undefined {
  if (p.content === undefined || p.content instanceof Secret) return undefined;
  return createHash('sha256').update(bytesOf(p.content)).digest('hex');
}

/** A file's whole content, from a value or a controller file, compared by checksum. */
export const copy = defineOp({
  kind: 'files.copy',
  hostLocal: true,
  schema,
  describe: (p) => p.path,
  // A Secret's file is not read back: its diff is never shown.
  probe: (p) => pathStateProbe(p.path, !(p.content instanceof Secret), wantedSha256(p)),
  decide: (p, state: PathState) => {
    const desired = p.src !== undefined ? readFileSync(p.src) : bytesOf(p.content!);
    return decideFileContent(p.path, desired, state, { ...p, secret: p.content instanceof Secret ? p.content : undefined });
  },
});
