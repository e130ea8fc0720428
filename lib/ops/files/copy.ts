import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from '../../shell/zod.ts';
import { absolutePath, defineOp, fileMode } from '../../model/op.ts';
import { Secret } from '../../shell/secret.ts';
import { copyTargetProbe, type CopyTarget } from './copy-target.ts';
import { localFile, type LocalFile } from './local-file.ts';
import { DIFF_LIMIT } from './path-state.ts';
import { decideFileContent, type FileResult } from './write-file.ts';

export type CopyResult = FileResult;

const schema = z
  .object({
    /** The file, or a directory (existing, or written with a final /) to copy src into under its own name. */
    path: absolutePath,
    /** The file's content; a Secret is written through stdin and shown as *** in diffs. */
    content: z.union([z.string(), z.instanceof(Buffer), z.instanceof(Secret)]).optional(),
    /** A file on the controller (on the host with remoteSrc) to copy instead of content. */
    src: z.string().min(1).optional(),
    remoteSrc: z.boolean().default(false),
    /** 'preserve' gives the copy the source file's mode. */
    mode: z.union([z.literal('preserve'), fileMode]).optional(),
    /** false: leave an existing file alone, whatever its content. */
    force: z.boolean().default(true),
    /** A symlink at path: true writes the file it points to; false (Ansible's default) replaces the link with a file. */
    follow: z.boolean().default(false),
    /** The mode of the directories created for a path ending in /. */
    directoryMode: fileMode.optional(),
    /** The SHA-1 the source must have (Ansible's checksum); the copy fails otherwise. */
    checksum: z.string().regex(/^[0-9a-f]{40}$/, 'a SHA-1 in 40 hex digits').optional(),
    backup: z.boolean().default(false),
    owner: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    validate: z.string().includes('%s', { message: 'must contain %s for the file to check' }).optional(),
  })
  .strict()
  .refine((p) => (p.content === undefined) !== (p.src === undefined), { message: 'give exactly one of content or src', path: ['content'] })
  .refine((p) => !p.remoteSrc || p.src !== undefined, { message: 'remoteSrc needs src (a file on the host)', path: ['remoteSrc'] })
  .refine((p) => !(p.mode === 'preserve' && p.src === undefined), { message: "mode 'preserve' needs src (the file whose mode to keep)", path: ['mode'] });

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

/** Why a controller src cannot be copied as one file, or undefined. */
function localSource(src: string): string | undefined {
  if (!existsSync(src)) return `${src} does not exist on the controller`;
  if (statSync(src).isDirectory()) return `${src} is a directory: copy a tree with ops.copyTree({ path, src })`;
  return undefined;
}

/**
 * A controller file: its bytes when small enough for a text diff, else only
 * its checksums, and the transport streams it (any size, in constant memory).
 */
function controllerFile(src: string): Buffer | LocalFile {
  return statSync(src).size <= DIFF_LIMIT ? readFileSync(src) : localFile(src);
}

/** A file's whole content, from a value or a controller file, compared by checksum. */
export const copy = defineOp({
  kind: 'files.copy',
  hostLocal: true,
  schema,
  describe: (p) => p.path,
  // A Secret's file is not read back: its diff is never shown.
  probe: (p) => copyTargetProbe(p, wantedSha256(p), !(p.content instanceof Secret)),
  decide: (p, target: CopyTarget) => {
    const { path, state } = target;
    if (p.remoteSrc && !target.src) return { kind: 'fail', reason: `${p.src} on the host is missing, not a file, or larger than the 4 MiB rigger copies` };
    if (!p.force && state.exists) return { kind: 'ok', result: { path, sha256: state.sha256 ?? '' } };
    const local = p.src !== undefined && !p.remoteSrc ? localSource(p.src) : undefined;
    if (local) return { kind: 'fail', reason: local };
    const desired = target.src ? target.src.content : p.src !== undefined ? controllerFile(p.src) : bytesOf(p.content!);
    const sha1 = Buffer.isBuffer(desired) ? createHash('sha1').update(desired).digest('hex') : desired.sha1;
    if (p.checksum && sha1 !== p.checksum) {
      return { kind: 'fail', reason: `${p.src ?? path} does not have the expected checksum ${p.checksum}` };
    }
    const mode = p.mode !== 'preserve' ? p.mode : (target.src?.mode ?? (statSync(p.src!).mode & 0o7777).toString(8).padStart(4, '0'));
    // An unfollowed symlink is replaced by a file, as Ansible does.
    const current = state.type === 'link' ? { exists: false } : state;
    const makeParents = p.path.endsWith('/') ? (p.directoryMode ?? true) : false;
    return decideFileContent(path, desired, current, { ...p, mode, makeParents, secret: p.content instanceof Secret ? p.content : undefined });
  },
});
