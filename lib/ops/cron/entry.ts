import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { pathStateProbe, type PathState } from '../files/path-state.ts';
import { atomicWrite } from '../files/write-file.ts';

const MACROS = ['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** A five-field schedule or an @macro, checked with croner so a typo fails before it reaches the host. */
export const cronSchedule = z.string().refine((s) => {
  if (MACROS.includes(s)) return true;
  // croner takes any whitespace between fields; in a crontab a line break would end the entry.
  if (/[\n\r]/.test(s)) return false;
  if (s.trim().split(/\s+/).length !== 5) return false;
  try {
    new Cron(s, { paused: true });
    return true;
  } catch {
    return false;
  }
}, 'a cron schedule of five fields (m h dom mon dow) or an @macro like @daily');

/**
 * Debian's cron (3.0pl1, do_command.c) reads a `%` in the command as a line
 * break (what follows is the job's stdin) and takes `\%` and `\\` as `%` and
 * `\`: both escaped here, so the shell is given the command as written.
 */
export function cronCommand(command: string): string {
  return command.replace(/[\\%]/g, (c) => `\\${c}`);
}

/** Plain values are written bare, as before; cron keeps them as they are. */
const BARE_ENV_VALUE = /^[A-Za-z0-9_@%+=:,.\/-]+$/;
/** C's isspace(): what cron trims from the ends of a value. */
const C_SPACE = /^[ \t\n\v\f\r]|[ \t\n\v\f\r]$/;

/**
 * The environment line Debian's cron (3.0pl1, env.c load_env) reads back as
 * exactly `value`, or undefined when there is none. cron reads a value in
 * three passes: a leading quote makes it run to the matching quote (else
 * to the end of the line, trailing blanks cut); then trailing blanks are
 * cut again; then one pair of matching quotes around it is removed. There
 * is no escape. So a value is wrapped twice, the outer quote of the kind
 * it does not hold: `NAME='"value"'` is `"value"` after the first pass,
 * which no blank-cutting touches, and `value` after the last. A value
 * holding both kinds is written bare, which holds only when it neither
 * starts with a quote nor starts or ends with a blank.
 */
export function cronEnvLine(name: string, value: string): string | undefined {
  if (BARE_ENV_VALUE.test(value)) return `${name}=${value}`;
  if (!value.includes("'")) return `${name}='"${value}"'`;
  if (!value.includes('"')) return `${name}="'${value}'"`;
  if (value !== '' && !/^['"]/.test(value) && !C_SPACE.test(value)) return `${name}=${value}`;
  return undefined;
}

/**
 * cron reads at most 999 bytes of a line and silently drops the rest
 * (MAX_ENVSTR, MAX_COMMAND), and skips a variable whose NAME=value is
 * 998 bytes or more.
 */
const CRON_LINE_MAX = 999;
const fitsCronLine = (line: string) => Buffer.byteLength(line, 'utf8') <= CRON_LINE_MAX;
const fitsCronEnv = (name: string, value: string) => Buffer.byteLength(`${name}=${value}`, 'utf8') < CRON_LINE_MAX - 1;

const envValue = z.string().refine((v) => !/[\n\r\0]/.test(v), 'cron reads one line per variable: no line break (or NUL) in the value');

const schema = z
  .object({
    /** The file name in /etc/cron.d; cron ignores names with dots, so none are allowed. */
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - (cron ignores other file names)'),
    schedule: cronSchedule,
    command: z.string().min(1).refine((c) => !/[\n\r\0]/.test(c), 'a single line'),
    user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('root'),
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), envValue).default({}),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const [k, v] of Object.entries(p.env)) {
      const line = cronEnvLine(k, v);
      if (line === undefined) ctx.addIssue({ code: 'custom', path: ['env', k], message: 'cron cannot hold this value: it has both quote kinds and starts with a quote or starts or ends with a blank' });
      else if (!fitsCronLine(line) || !fitsCronEnv(k, v)) ctx.addIssue({ code: 'custom', path: ['env', k], message: `cron reads at most ${CRON_LINE_MAX} bytes of a line: this variable's line is longer` });
    }
    if (!fitsCronLine(jobLine(p))) ctx.addIssue({ code: 'custom', path: ['command'], message: `cron reads at most ${CRON_LINE_MAX} bytes of a job line (schedule, user and command, % and \\ escaped): this one is longer` });
  });

type CronParams = z.output<typeof schema>;

function jobLine(p: Pick<CronParams, 'schedule' | 'user' | 'command'>): string {
  return `${p.schedule} ${p.user} ${cronCommand(p.command)}`;
}

export function cronText(p: CronParams): string {
  const env = { SHELL: '/bin/sh', PATH: '/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin', ...p.env };
  return [`# Managed by rigger: ${p.name}`, ...Object.entries(env).map(([k, v]) => cronEnvLine(k, v)!), jobLine(p)].join('\n') + '\n';
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
