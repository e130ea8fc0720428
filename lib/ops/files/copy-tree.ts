import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { sh, type Command } from '../../shell/command.ts';
import { absolutePath, defineOp, fileMode, type Decision, type Probe } from '../../model/op.ts';
import { z } from '../../shell/zod.ts';
import { putFiles, type PutFile } from './put-files.ts';
import { localFile } from './local-file.ts';
import type { FileStdin } from '../../shell/stdin-source.ts';

/**
 * A directory tree from the controller, as Ansible's copy with a directory
 * as src: `src: 'dir'` lands as PATH/dir/..., `src: 'dir/'` puts dir's
 * contents in PATH. Symlinks in the source are followed (localFollow, the
 * default), or copied as symlinks. Files are compared by checksum; nothing
 * in PATH that the source lacks is removed.
 */
const schema = z
  .object({
    path: absolutePath,
    /** A directory on the controller; a final / copies its contents rather than the directory itself. */
    src: z.string().min(1),
    /** The mode of every file copied (else an existing file keeps its mode and a new one gets 0644). */
    mode: fileMode.optional(),
    /** The mode of the directories of the tree (else new ones get 0755, existing ones keep theirs). */
    directoryMode: fileMode.optional(),
    localFollow: z.boolean().default(true),
  })
  .strict();

type Params = z.output<typeof schema>;

interface SourceTree {
  dirs: string[];
  /** Each file's bytes stay on disk: hashed in chunks now, streamed by the transport when written. */
  files: { rel: string; data: FileStdin; sha256: string }[];
  links: { rel: string; target: string }[];
}

/** Walks the source as Ansible's _walk_dirs: links to files become files, links to directories are entered unless they loop. */
export function walkSource(src: string, localFollow: boolean): SourceTree {
  const tree: SourceTree = { dirs: [], files: [], links: [] };
  const top = src.replace(/\/+$/, '');
  const prefix = src.endsWith('/') ? '' : path.basename(top);
  if (prefix) tree.dirs.push(prefix);
  const walk = (dir: string, rel: string, ancestors: Set<string>) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) {
        const real = realpathSync(full);
        const target = statSync(real);
        if (localFollow && target.isFile()) tree.files.push(fileEntry(r, real));
        else if (localFollow && target.isDirectory() && !ancestors.has(real)) {
          tree.dirs.push(r);
          walk(real, r, new Set([...ancestors, real]));
        } else tree.links.push({ rel: r, target: readlinkSync(full) });
      } else if (st.isDirectory()) {
        tree.dirs.push(r);
        walk(full, r, new Set([...ancestors, realpathSync(full)]));
      } else if (st.isFile()) tree.files.push(fileEntry(r, full));
    }
  };
  walk(top, prefix, new Set([realpathSync(top)]));
  return tree;
}

function fileEntry(rel: string, file: string) {
  const { stdin, sha256 } = localFile(file);
  return { rel, data: stdin, sha256 };
}

interface Entry {
  type: string;
  mode: string;
  link: string;
  sha256?: string;
}

/** Every entry under PATH: kind, mode, link target, and a regular file's sha256. */
type TreeState = Map<string, Entry> | 'missing' | 'not-a-directory';

function treeProbe(p: Params): Probe<TreeState> {
  const command = sh`d=${p.path}
if [ -e "$d" ] && [ ! -d "$d" ]; then echo 'not-a-directory'; exit 0; fi
[ -d "$d" ] || { echo missing; exit 0; }
cd "$d" && find . -mindepth 1 -printf '%y %m %P\\0%l\\0' && find . -type f -exec sha256sum -z -- {} +`;
  return {
    command,
    parse: (r) => {
      const out = r.stdout.toString('utf8');
      if (out.startsWith('not-a-directory')) return 'not-a-directory';
      if (out.startsWith('missing')) return 'missing';
      const entries = new Map<string, Entry>();
      const parts = out.split('\0');
      let i = 0;
      for (; i + 1 < parts.length; i += 2) {
        const head = /^([a-z]) (\d+) (.*)$/s.exec(parts[i]!);
        if (!head) break;
        entries.set(head[3]!, { type: head[1]!, mode: head[2]!.padStart(4, '0'), link: parts[i + 1]! });
      }
      // sha256sum -z prints "HASH  ./REL" records.
      for (const rec of parts.slice(i)) {
        const m = /^([0-9a-f]{64}) {2}\.\/(.*)$/s.exec(rec);
        const e = m ? entries.get(m[2]!) : undefined;
        if (e) e.sha256 = m![1]!;
      }
      return entries;
    },
  };
}

export const copyTree = defineOp({
  kind: 'files.copyTree',
  hostLocal: true,
  schema,
  describe: (p) => `${p.path} from ${p.src}`,
  probe: (p) => treeProbe(p),
  decide: (p, state: TreeState): Decision<{ path: string }> => {
    const result = { path: p.path };
    if (state === 'not-a-directory') return { kind: 'fail', reason: `${p.path} exists and is not a directory` };
    const have = state === 'missing' ? new Map<string, Entry>() : state;
    let tree: SourceTree;
    try {
      tree = walkSource(p.src, p.localFollow);
    } catch (err) {
      return { kind: 'fail', reason: `cannot read ${p.src} on the controller: ${(err as Error).message}` };
    }
    const at = (rel: string) => path.posix.join(p.path, rel);
    const commands: Command[] = [];
    // Every file written goes in one call of the file writer, after the directories.
    const writes: PutFile[] = [];
    const lines: string[] = [];
    const dirMode = p.directoryMode ?? '0755';
    if (state === 'missing') {
      commands.push(sh`mkdir -p -- ${p.path}`, sh`chmod ${dirMode} -- ${p.path}`);
      lines.push(`${p.path}: create directory`);
    }
    for (const rel of tree.dirs) {
      const e = have.get(rel);
      if (e && e.type !== 'd') return { kind: 'fail', reason: `${at(rel)} exists and is not a directory` };
      if (!e) {
        commands.push(sh`mkdir -p -- ${at(rel)}`, sh`chmod ${dirMode} -- ${at(rel)}`);
        lines.push(`${at(rel)}: create directory`);
      } else if (p.directoryMode && e.mode !== p.directoryMode) {
        commands.push(sh`chmod ${p.directoryMode} -- ${at(rel)}`);
        lines.push(`${at(rel)}: mode ${e.mode} -> ${p.directoryMode}`);
      }
    }
    for (const f of tree.files) {
      const e = have.get(f.rel);
      if (e && e.type === 'd') return { kind: 'fail', reason: `${at(f.rel)} is a directory, not a file` };
      if (!e || e.type !== 'f' || e.sha256 !== f.sha256) {
        writes.push({ path: at(f.rel), data: f.data, sha256: f.sha256, mode: p.mode ?? (e?.type === 'f' ? e.mode : '0644') });
        lines.push(`${at(f.rel)}: ${e ? 'update' : 'create'}`);
      } else if (p.mode && e.mode !== p.mode) {
        commands.push(sh`chmod ${p.mode} -- ${at(f.rel)}`);
        lines.push(`${at(f.rel)}: mode ${e.mode} -> ${p.mode}`);
      }
    }
    if (writes.length) commands.push(putFiles(writes));
    for (const l of tree.links) {
      const e = have.get(l.rel);
      if (e?.type === 'l' && e.link === l.target) continue;
      if (e?.type === 'd') return { kind: 'fail', reason: `${at(l.rel)} is a directory, not a symlink` };
      commands.push(sh`ln -sfn -- ${l.target} ${at(l.rel)}`);
      lines.push(`${at(l.rel)}: link to ${l.target}`);
    }
    if (lines.length === 0) return { kind: 'ok', result };
    return { kind: 'change', msg: `${lines.length} change(s) under ${p.path}`, diff: { kind: 'summary', lines }, commands, result: () => result, checkResult: result };
  },
});
