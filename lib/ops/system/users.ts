import { z } from '../../shell/zod.ts';
import { sh, type Command } from '../../shell/command.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';

const unixName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a user or group name: lowercase letters, digits, _ and -');

const groupSchema = z.object({ name: unixName, gid: z.number().int().min(0).optional(), system: z.boolean().default(false), state: z.enum(['present', 'absent']).default('present') }).strict();

/** A local group. */
export const group = defineOp({
  kind: 'system.group',
  schema: groupSchema,
  describe: (p) => `${p.name} ${p.state}`,
  probe: (p) => ({ command: sh`getent group ${p.name} || true`, parse: (r: ExecResult) => r.stdout.toString().trim().split(':') }),
  decide: (p, f: string[]): Decision<{ name: string }> => {
    const exists = f.length >= 3 && f[0] === p.name;
    const result = { name: p.name };
    if (p.state === 'absent') return exists ? { kind: 'change', msg: `remove group ${p.name}`, commands: [sh`groupdel ${p.name}`], result: () => result, checkResult: result } : { kind: 'ok', result };
    if (!exists) {
      const args = [...(p.gid !== undefined ? ['--gid', String(p.gid)] : []), ...(p.system ? ['--system'] : [])];
      return { kind: 'change', msg: `create group ${p.name}`, commands: [sh`groupadd ${args} ${p.name}`], result: () => result, checkResult: result };
    }
    if (p.gid !== undefined && Number(f[2]) !== p.gid) {
      return { kind: 'change', msg: `gid ${f[2]} -> ${p.gid}`, commands: [sh`groupmod --gid ${p.gid} ${p.name}`], result: () => result, checkResult: result };
    }
    return { kind: 'ok', result };
  },
});

const userSchema = z
  .object({
    name: unixName,
    uid: z.number().int().min(0).optional(),
    /** Supplementary groups; with append false (default) the list is exact. */
    groups: z.array(unixName).optional(),
    append: z.boolean().default(false),
    shell: absolutePath.optional(),
    home: absolutePath.optional(),
    system: z.boolean().default(false),
    state: z.enum(['present', 'absent']).default('present'),
    /** With state absent: remove the home directory too. */
    removeHome: z.boolean().default(false),
  })
  .strict();

interface UserState {
  passwd: string[];
  groups: string[];
}

/** A local user: uid, shell, home and supplementary groups. */
export const user = defineOp({
  kind: 'system.user',
  schema: userSchema,
  describe: (p) => `${p.name} ${p.state}`,
  probe: (p) => ({
    command: sh`getent passwd ${p.name} || true; echo @@groups; id -nG ${p.name} 2>/dev/null || true`,
    parse: (r: ExecResult): UserState => {
      const [pw = '', gr = ''] = r.stdout.toString().split('@@groups\n');
      return { passwd: pw.trim() ? pw.trim().split(':') : [], groups: gr.trim().split(/\s+/).filter(Boolean) };
    },
  }),
  decide: (p, s: UserState): Decision<{ name: string }> => {
    const result = { name: p.name };
    const exists = s.passwd[0] === p.name;
    if (p.state === 'absent') {
      return exists ? { kind: 'change', msg: `remove user ${p.name}`, commands: [sh`userdel ${p.removeHome ? ['--remove'] : []} ${p.name}`], result: () => result, checkResult: result } : { kind: 'ok', result };
    }
    if (!exists) {
      const args = [
        ...(p.uid !== undefined ? ['--uid', String(p.uid)] : []),
        ...(p.shell ? ['--shell', p.shell] : []),
        ...(p.home ? ['--home-dir', p.home] : []),
        ...(p.groups && p.groups.length ? ['--groups', p.groups.join(',')] : []),
        ...(p.system ? ['--system'] : ['--create-home']),
      ];
      return { kind: 'change', msg: `create user ${p.name}`, commands: [sh`useradd ${args} ${p.name}`], result: () => result, checkResult: result };
    }
    const changes: string[] = [];
    const args: string[] = [];
    if (p.uid !== undefined && Number(s.passwd[2]) !== p.uid) (args.push('--uid', String(p.uid)), changes.push(`uid ${s.passwd[2]} -> ${p.uid}`));
    if (p.shell && s.passwd[6] !== p.shell) (args.push('--shell', p.shell), changes.push(`shell ${s.passwd[6]} -> ${p.shell}`));
    if (p.home && s.passwd[5] !== p.home) (args.push('--home', p.home), changes.push(`home ${s.passwd[5]} -> ${p.home}`));
    if (p.groups) {
      // id -nG lists the primary group first; supplementary groups follow.
      const have = new Set(s.groups.slice(1));
      const missing = p.groups.filter((g) => !have.has(g));
      const extra = [...have].filter((g) => !p.groups!.includes(g));
      if (missing.length || (!p.append && extra.length)) {
        args.push(...(p.append ? ['--append', '--groups', missing.join(',')] : ['--groups', p.groups.join(',')]));
        changes.push(`groups ${[...have].join(',') || '(none)'} -> ${p.append ? [...have, ...missing].join(',') : p.groups.join(',')}`);
      }
    }
    if (args.length === 0) return { kind: 'ok', result };
    const commands: Command[] = [sh`usermod ${args} ${p.name}`];
    return { kind: 'change', msg: changes.join(', '), diff: { kind: 'summary', lines: changes.map((c) => `${p.name}: ${c}`) }, commands, result: () => result, checkResult: result };
  },
});
