import { z } from '../../shell/zod.ts';
import { sh, type Command } from '../../shell/command.ts';
import { absolutePath, defineOp, fileMode, type Decision } from '../../model/op.ts';
import { attributeCommands, pathStateProbe, type PathState } from './path-state.ts';

export interface FileResult {
  path: string;
  state: string;
}

const schema = z
  .object({
    path: absolutePath.refine((p) => p.replace(/\/+$/, '') !== '', 'must not be /'),
    state: z.enum(['file', 'directory', 'absent', 'touch', 'link']),
    /** The link's target, for state link. */
    src: z.string().min(1).optional(),
    mode: fileMode.optional(),
    owner: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
  })
  .strict()
  .refine((p) => p.state !== 'link' || p.src !== undefined, { message: 'state link needs src (the link target)', path: ['src'] })
  .refine((p) => p.state === 'link' || p.src === undefined, { message: 'src is only for state link', path: ['src'] });

type Params = z.output<typeof schema>;

function change(p: Params, msg: string, commands: Command[], lines: string[] = [msg]): Decision<FileResult> {
  const result = { path: p.path, state: p.state };
  return { kind: 'change', msg, commands, diff: { kind: 'summary', lines: lines.map((l) => `${p.path}: ${l}`) }, result: () => result, checkResult: result };
}

/** A path's kind and attributes: file, directory, symlink, touched, or absent. */
export const file = defineOp({
  kind: 'files.file',
  hostLocal: true,
  schema,
  describe: (p) => `${p.path} (${p.state})`,
  probe: (p) => pathStateProbe(p.path, false),
  decide: (p, s: PathState): Decision<FileResult> => {
    const result = { path: p.path, state: p.state };
    const attrs = () => attributeCommands(p.path, p, s);
    switch (p.state) {
      case 'absent':
        return s.exists ? change(p, `remove ${s.type}`, [sh`rm -rf -- ${p.path}`]) : { kind: 'ok', result };
      case 'directory': {
        if (s.exists && s.type !== 'directory') return { kind: 'fail', reason: `${p.path} exists and is a ${s.type}, not a directory` };
        if (!s.exists) {
          const fresh = attributeCommands(p.path, { ...p, mode: p.mode ?? '0755' }, {} as PathState);
          return change(p, 'create directory', [sh`mkdir -p -- ${p.path}`, ...fresh.commands]);
        }
        const a = attrs();
        return a.commands.length ? change(p, a.changes.join(', '), a.commands, a.changes) : { kind: 'ok', result };
      }
      case 'file': {
        if (!s.exists) return { kind: 'fail', reason: `${p.path} does not exist (use state touch to create it)` };
        if (s.type !== 'file') return { kind: 'fail', reason: `${p.path} is a ${s.type}, not a file` };
        const a = attrs();
        return a.commands.length ? change(p, a.changes.join(', '), a.commands, a.changes) : { kind: 'ok', result };
      }
      case 'touch': {
        if (!s.exists) {
          const fresh = attributeCommands(p.path, { ...p, mode: p.mode ?? '0644' }, {} as PathState);
          return change(p, 'create empty file', [sh`touch -- ${p.path}`, ...fresh.commands]);
        }
        const a = attrs();
        return a.commands.length ? change(p, a.changes.join(', '), a.commands, a.changes) : { kind: 'ok', result };
      }
      case 'link': {
        if (s.exists && s.type === 'link' && s.linkTarget === p.src) {
          const a = attributeCommands(p.path, { owner: p.owner, group: p.group }, s);
          return a.commands.length ? change(p, a.changes.join(', '), a.commands, a.changes) : { kind: 'ok', result };
        }
        if (s.exists && s.type === 'directory') return { kind: 'fail', reason: `${p.path} is a directory; refusing to replace it with a link` };
        const was = s.exists ? (s.type === 'link' ? `link to ${s.linkTarget}` : s.type) : 'absent';
        return change(p, `link -> ${p.src}`, [sh`ln -sfn -- ${p.src!} ${p.path}`], [`${was} -> link to ${p.src}`]);
      }
    }
  },
});
