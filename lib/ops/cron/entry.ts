import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { z } from '../../core/zod.ts';
import { sh } from '../../core/command.ts';
import { defineOp, type Decision } from '../../core/op.ts';
import { pathStateProbe, type PathState } from '../files/path-state.ts';
import { atomicWrite } from '../files/write-file.ts';

const MACROS = ['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** A five-field schedule or an @macro, checked with croner so a typo fails before it reaches the host. */
export const cronSchedule = z.string().refine((s) => {
  if (MACROS.includes(s)) return true;
  if (s.trim().split(/\s+/).length !== 5) return false;
  try {
    new Cron(s, { paused: true });
    return true;
  } catch {
    return false;
  }
}, 'a cron schedule of five fields (m h dom mon dow) or an @macro like @daily');

const schema = z
  .object({
    /** The file name in /etc/cron.d; cron ignores names with dots, so none are allowed. */
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - (cron ignores other file names)'),
    schedule: cronSchedule,
    command: z.string().min(1).refine((c) => !c.includes('\n'), 'a single line'),
    user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('root'),
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .strict();

export function cronText(p: z.output<typeof schema>): string {
  const env = { SHELL: '/bin/sh', PATH: '/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin', ...p.env };
  return [`# Managed by rigger: ${p.name}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), `${p.schedule} ${p.user} ${p.command}`].join('\n') + '\n';
}

/** One job in /etc/cron.d, identified by its name. */
export const entry = defineOp({
  kind: 'cron.entry',
  schema,
  describe: (p) => `${p.name}: ${p.schedule}`,
  probe: (p) => pathStateProbe(`/etc/cron.d/${p.name}`, true),
  decide: (p, s: PathState): Decision<{ name: string }> => {
    const path = `/etc/cron.d/${p.name}`;
    const result = { name: p.name };
    if (p.state === 'absent') {
      if (!s.exists) return { kind: 'ok', result };
      return { kind: 'change', msg: `remove ${path}`, commands: [sh`rm -f -- ${path}`], result: () => result, checkResult: result };
    }
    const text = cronText(p);
    const sha = createHash('sha256').update(text).digest('hex');
    if (s.exists && s.sha256 === sha && s.mode === '0644') return { kind: 'ok', result };
    return {
      kind: 'change',
      msg: `${s.exists ? 'update' : 'create'} ${path}`,
      diff: { kind: 'text', path, before: s.content?.toString('utf8') ?? '', after: text },
      commands: [atomicWrite(path, Buffer.from(text), sha, '0644', { owner: 'root', group: 'root' })],
      result: () => result,
      checkResult: result,
    };
  },
});
