import { z } from '../../shell/zod.ts';
import { absolutePath, defineOp, OpFailure, type Decision, type Remote } from '../../model/op.ts';
import { tarLength, tarOutCommand } from '../../backup/pull-script.ts';
import { streamFrom } from '../../backup/stream-from.ts';
import { backupRootGuardCommand, rootRefusal } from '../../backup/root-check.ts';
import { pitrConfig } from '../config.ts';
import { outgoingCleanupCommand, outgoingCommand, parseOutgoing, stageInCommand, unstageCommand } from '../stage-script.ts';

const stageSchema = z
  .object({
    config: pitrConfig,
    base: z.string().regex(/^\d{8}_\d{6}$/),
    startWal: z.string().regex(/^[0-9A-F]{24}$/),
    /** Where it goes on this host (the database's): the archive's layout, base/BASE and wal/. */
    dir: absolutePath,
    /**
     * This host's backup root and its backup_root_create, when `dir` lies
     * under it (homelab.yml stages on the NAS's backup volume): the root is
     * accepted as a set's (backup/root-check.ts) before anything is made,
     * so an unmounted volume's empty mount point is never filled.
     */
    backupRoot: z.object({ root: absolutePath, create: z.boolean() }).strict().optional(),
  })
  .strict();

export interface Staged {
  dir: string;
  files: number;
  bytes: number;
}

/** The staging directory of one recovery on the database's host: named so a failed one left behind says what it is. */
export const stagingDirOf = (stagingRoot: string, base: string) => `${stagingRoot.replace(/\/+$/, '')}/pitr-staged-${base}`;

/**
 * Run on the database's host: the base backup `base` and the WAL from its
 * start segment on (the unfinished segment and the timelines' history
 * included), streamed from the archive host (config.archive_host) through
 * the controller into `dir`, verified file by file against the sizes and
 * sha256 the archive host listed (lib/pitr/stage-script.ts). Nothing is held
 * on the controller's disk. A failed transfer leaves no `dir`.
 */
export const pitrStage = defineOp({
  kind: 'pitr.stage',
  schema: stageSchema,
  describe: (p) => `${p.config.archive_host}:${p.config.archive_dir} base ${p.base} -> ${p.dir}`,
  decide: (p): Decision<Staged> => ({
    kind: 'change',
    msg: `bring base backup ${p.base} and its WAL from ${p.config.archive_host} into ${p.dir}`,
    checkResult: { dir: p.dir, files: 0, bytes: 0 },
    apply: (remote) => stage(remote, p),
  }),
});

async function stage(remote: Remote, p: z.output<typeof stageSchema>): Promise<Staged> {
  if (!remote.onHost) throw new OpFailure('pitrStage needs a run around it (Remote.onHost)');
  if (p.backupRoot) {
    const refused = rootRefusal(await remote.run(backupRootGuardCommand(p.backupRoot.root, p.backupRoot.create)));
    if (refused) throw new OpFailure(`refusing to stage the archive in ${p.dir}: ${refused}`);
  }
  const from = p.config.archive_host;
  const source = remote.onHost(from);
  const listed = await source.run(outgoingCommand(p.config.archive_dir, p.base, p.startWal));
  const out = parseOutgoing(listed.stdout.toString('utf8'));
  if (listed.code !== 0 || !out.dir) throw new OpFailure(`reading the archive on ${from} failed: ${listed.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ')}`, listed);
  try {
    if (!out.files.some((f) => f.name.endsWith('/base.tar.gz'))) throw new OpFailure(`${from}: base backup ${p.base} was not listed`);
    const size = tarLength(out.files);
    const stdin = streamFrom(source, tarOutCommand(out.dir, out.files.map((f) => f.name)), size, `the archive on ${from}`);
    let r;
    try {
      r = await remote.run(stageInCommand(p.dir, out.files).withStdin(stdin));
    } catch (err) {
      await remote.run(unstageCommand(p.dir)).catch(() => undefined);
      throw new OpFailure(`bringing the archive from ${from} failed: ${(err as Error).message}`);
    }
    if (r.code !== 0 || !r.stdout.toString('utf8').includes('@@staged')) {
      await remote.run(unstageCommand(p.dir)).catch(() => undefined);
      const bad = /^@@bad (.*)$/m.exec(r.stdout.toString('utf8'))?.[1];
      throw new OpFailure(bad ? `the archive brought from ${from} did not verify: ${bad}` : `bringing the archive from ${from} failed (exit ${r.code}): ${r.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ')}`, r);
    }
    return { dir: p.dir, files: out.files.length, bytes: out.files.reduce((n, f) => n + f.bytes, 0) };
  } finally {
    await source.run(outgoingCleanupCommand(out.dir)).catch(() => undefined);
  }
}

/** After a recovery that succeeded: the staged copy goes (a failed one's stays for a look, named pitr-staged-BASE). */
export const pitrUnstage = defineOp({
  kind: 'pitr.unstage',
  schema: z.object({ dir: absolutePath }).strict(),
  describe: (p) => p.dir,
  decide: (p): Decision<{ dir: string }> => ({
    kind: 'change',
    msg: `remove the staged archive ${p.dir}`,
    checkResult: { dir: p.dir },
    commands: [unstageCommand(p.dir)],
    result: () => ({ dir: p.dir }),
  }),
});
