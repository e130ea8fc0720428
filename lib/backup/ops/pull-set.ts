import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { absolutePath, defineOp, OpFailure, type Decision, type Remote } from '../../model/op.ts';
import { copyStateCommand, parseCopyState, type CopyState } from '../copy-state.ts';
import { manifestSchema, type Manifest } from '../listing.ts';
import { pullCleanupCommand, pullInCommand, sourceReadCommand, tarLength, tarOutCommand, type PulledFile } from '../pull-script.ts';
import { backupRootGuardCommand, isUnderRoot, rootRefusal } from '../root-check.ts';
import { streamFrom } from '../stream-from.ts';

const schema = z
  .object({
    /** The inventory host the set is read from (another host of the run). */
    from: z.string().min(1),
    /** The set's directory there (`${backup_root}/${SET}`, or a copy's `.../copies/H/SET`). */
    source: absolutePath,
    /** Where it goes on this host: `${root}/copies/H/SET`, or `${root}/SET` for a recovery. */
    dir: absolutePath,
    /**
     * This host's backup root, holding `dir`, and its backup_root_create:
     * the root must pass a set's own check (root-check.ts) before anything
     * is made under it, so an unmounted disk's empty mount point is never
     * filled with copies.
     */
    root: absolutePath,
    rootCreate: z.boolean(),
    /** Also check the sha256 of every file of a copy already there (the newest set's); else sizes only. */
    reverify: z.boolean().default(false),
  })
  .strict();

export interface PullResult {
  set: string;
  /** Bytes sent (the tar stream); 0 when the copy was already there. */
  bytes: number;
  /** The copy that was there before, as judged (verified, missing, damaged). */
  before: CopyState;
}

const setOf = (dir: string) => dir.replace(/\/+$/, '').split('/').at(-1)!;

/**
 * backupOps.pullSet({ from, source, dir, root, rootCreate, reverify? }), run on the
 * destination host: copies the set directory `source` on host `from` to
 * `dir` here, through the controller, streamed (tar on both ends; the
 * controller holds about a MiB whatever the set's size, nothing on its
 * disk). The destination writes DIR.partial, checks every file's sha256
 * against the source's manifest, then renames it to DIR.
 *
 * Idempotent: a DIR whose manifest names the set and whose files have the
 * manifest's sizes (with `reverify`, its checksums too) is ok, untouched.
 * A damaged DIR is replaced, only once the new copy verified. Check mode
 * reads only. The source failing (its host lost, tar failing, bytes not
 * matching) fails the task and leaves no DIR.partial; an older DIR stays.
 */
export const pullSet = defineOp({
  kind: 'backup.pull-set',
  schema,
  describe: (p) => `${p.from}:${p.source} -> ${p.dir}`,
  probe: (p) => ({ command: copyStateCommand(p.dir, p.reverify), parse: (r) => parseCopyState(r, setOf(p.dir), p.reverify) }),
  decide: (p, before: CopyState): Decision<PullResult> => {
    const set = setOf(p.dir);
    if (setOf(p.source) !== set) return { kind: 'fail', reason: `${p.source} and ${p.dir} name different sets` };
    if (!isUnderRoot(p.root, p.dir)) return { kind: 'fail', reason: `${p.dir} is not under the backup root ${p.root}` };
    if (before.state === 'verified') return { kind: 'ok', result: { set, bytes: 0, before }, msg: `${set}: a verified copy is there (${before.checked} checked)` };
    return {
      kind: 'change',
      msg: `${before.state === 'damaged' ? `replace the damaged copy of ${set} (${before.problem})` : `copy ${set}`} from ${p.from}`,
      checkResult: { set, bytes: 0, before },
      apply: async (remote) => ({ set, bytes: await transfer(remote, p), before }),
    };
  },
});

async function transfer(remote: Remote, p: z.output<typeof schema>): Promise<number> {
  if (!remote.onHost) throw new OpFailure('pullSet needs a run around it (Remote.onHost)');
  const refused = rootRefusal(await remote.run(backupRootGuardCommand(p.root, p.rootCreate)));
  if (refused) throw new OpFailure(`refusing to copy ${p.from}:${p.source} here: ${refused}`);
  const source = remote.onHost(p.from);
  const read = await source.run(sourceReadCommand(p.source));
  if (read.code !== 0) throw new OpFailure(`${p.from}:${p.source} is not a published set (no manifest.json)`, read);
  const files = sourceFiles(read.stdout.toString('utf8'), p);
  const size = tarLength(files);
  const stdin = streamFrom(source, tarOutCommand(p.source, files.map((f) => f.name)), size, `tar of ${p.from}:${p.source}`);
  const into = pullInCommand(p.dir, files).withStdin(stdin);
  let r;
  try {
    r = await remote.run(into);
  } catch (err) {
    await remote.run(pullCleanupCommand(p.dir)).catch(() => undefined);
    throw new OpFailure(`copying ${p.from}:${p.source} failed: ${(err as Error).message}`);
  }
  if (r.code !== 0 || !r.stdout.toString('utf8').includes('@@pulled')) {
    await remote.run(pullCleanupCommand(p.dir)).catch(() => undefined);
    const bad = /^@@bad (.*)$/m.exec(r.stdout.toString('utf8'))?.[1];
    throw new OpFailure(bad ? `the copy of ${p.from}:${p.source} did not verify: ${bad}` : `copying ${p.from}:${p.source} failed (exit ${r.code}): ${r.stderr.toString('utf8').trim().split('\n').slice(-4).join('\n')}`, r);
  }
  return size;
}

/** The files to send, manifest last, each with the sha256 the destination must find. */
function sourceFiles(out: string, p: z.output<typeof schema>): PulledFile[] {
  const [b64 = '', ...sizeLines] = out.split('\n');
  const text = Buffer.from(b64, 'base64');
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(text.toString('utf8')));
  } catch (err) {
    throw new OpFailure(`${p.from}:${p.source}/manifest.json is unreadable: ${(err as Error).message.split('\n')[0]}`);
  }
  const sizes = new Map(sizeLines.filter(Boolean).map((l) => [l.slice(l.indexOf(' ') + 1), Number(l.slice(0, l.indexOf(' ')))]));
  const files: PulledFile[] = manifest.items.map((i) => {
    const bytes = sizes.get(i.file);
    if (bytes === undefined) throw new OpFailure(`${p.from}:${p.source}/${i.file} is missing: the set is not whole there`);
    return { name: i.file, bytes, sha256: i.sha256 };
  });
  files.push({ name: 'manifest.json', bytes: text.length, sha256: createHash('sha256').update(text).digest('hex') });
  return files;
}
