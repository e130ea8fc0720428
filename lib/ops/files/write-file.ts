import { createHash } from 'node:crypto';
import type { Command } from '../../shell/command.ts';
import type { Decision } from '../../model/op.ts';
import type { Diff } from '../../shell/diff.ts';
import { CONTENT_HIDDEN, Secret } from '../../shell/secret.ts';
import { attributeCommands, DIFF_LIMIT, type PathState } from './path-state.ts';
import type { FileStdin } from '../../shell/stdin-source.ts';
import type { LocalFile } from './local-file.ts';
import { putFiles, type PutFile } from './put-files.ts';

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
   * Split into words first, %s then one word whatever the path holds, run
   * with no shell (validate-words.ts). When it fails, the real file is left
   * as it was.
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

/** The owner field of a write: `user`, `user:group`, `:group`, or undefined to keep the old file's. */
export function ownerOf(opts: Pick<WriteOptions, 'owner' | 'group'>): string | undefined {
  return opts.owner || opts.group ? `${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}` : undefined;
}

/** One file of a {@link putFiles} call from a write's options. */
export function fileToPut(path: string, data: Buffer | Secret | FileStdin, sha256: string, mode: string, opts: WriteOptions): PutFile {
  return { path, data, sha256, mode, owner: ownerOf(opts), makeParents: opts.makeParents, validate: opts.validate, backup: opts.backup };
}

/**
 * Writes one file atomically: a temp file beside the target, checked,
 * validated, fsynced when it replaces one, renamed into place; an
 * interrupted or invalid write leaves the old file untouched and no temp
 * file (put-files.ts lists every guarantee). Ops that write several files
 * in one change call putFiles once with all of them.
 */
export function atomicWrite(path: string, data: Buffer | Secret | FileStdin, sha256: string, mode: string, opts: WriteOptions): Command {
  return putFiles([fileToPut(path, data, sha256, mode, opts)]);
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
  /** A LocalFile (a large controller file) is streamed, never read whole; its diff is a summary. */
  desiredContent: Buffer | LocalFile,
  state: PathState,
  opts: WriteOptions & { secret?: Secret | undefined; diff?: Diff | undefined },
): Decision<FileResult> {
  const local = Buffer.isBuffer(desiredContent) ? undefined : desiredContent;
  const desired = Buffer.isBuffer(desiredContent) ? desiredContent : undefined;
  const sha256 = local ? local.sha256 : createHash('sha256').update(desired!).digest('hex');
  const result = { path, sha256 };
  if (state.exists && state.type !== 'file') return { kind: 'fail', reason: `${path} is a ${state.type}, not a file` };
  if (!state.exists || state.sha256 !== sha256) {
    const mode = opts.mode ?? state.mode ?? '0644';
    const before = state.content ?? Buffer.alloc(0);
    // A secret's file is never shown, nor its checksum: the same line on both sides.
    let diff = opts.secret ? hiddenDiff(path) : opts.diff;
    if (!diff) {
      const readable = desired !== undefined && desired.length <= DIFF_LIMIT && isText(desired) && (!state.exists || (state.content !== undefined && isText(before)));
      diff = readable
        ? { kind: 'text', path, before: before.toString('utf8'), after: desired.toString('utf8') }
        : { kind: 'summary', lines: [`${path}: binary or large content, sha256 ${state.sha256 ?? 'none'} -> ${sha256}`] };
    }
    return {
      kind: 'change',
      msg: state.exists ? `update ${path}` : `create ${path}`,
      diff,
      commands: [atomicWrite(path, opts.secret ?? local?.stdin ?? desired!, sha256, mode, opts)],
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
