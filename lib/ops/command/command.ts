import { z } from '../../core/zod.ts';
import { Command, sh } from '../../core/command.ts';
import { absolutePath, defineOp, OpFailure, type Decision, type Probe } from '../../core/op.ts';
import { Secret } from '../../core/secret.ts';
import type { ExecResult } from '../../transport/types.ts';

export interface CommandResult {
  stdout: string;
  stderr: string;
  rc: number;
}

const common = {
  /** Skip when this path exists (the command already did its work). */
  creates: absolutePath.optional(),
  /** Skip unless this path exists. */
  removes: absolutePath.optional(),
  chdir: absolutePath.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _'), z.string()).optional(),
  /** Standard input; a Secret here never appears in argv or logs. */
  stdin: z.union([z.string(), z.instanceof(Secret)]).optional(),
  /** Read-only commands run in check mode too, so later tasks can use their result. */
  readOnly: z.boolean().optional(),
};

const commandSchema = z.object({ argv: z.array(z.string()).min(1, 'argv needs at least the program'), ...common }).strict();
const shellSchema = z.object({ script: z.string().min(1, 'must not be empty'), ...common }).strict();

type Common = z.output<z.ZodObject<typeof common>>;

interface GuardState {
  createsExists: boolean;
  removesExists: boolean;
}

function guardProbe(p: Common): Probe<GuardState | undefined> | undefined {
  if (!p.creates && !p.removes) return undefined;
  const paths = [p.creates, p.removes].map((x) => x ?? '/');
  return {
    command: sh`for p in ${paths}; do if [ -e "$p" ] || [ -L "$p" ]; then echo y; else echo n; fi; done`,
    parse: (r: ExecResult) => {
      const [c, rm] = r.stdout.toString().trim().split('\n');
      return { createsExists: c === 'y', removesExists: rm === 'y' };
    },
  };
}

const commandResult = (r: ExecResult): CommandResult => ({ stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), rc: r.code });

function decideRun(p: Common, body: Command, shown: string, state: GuardState | undefined): Decision<CommandResult> {
  if (p.creates && state?.createsExists) return { kind: 'ok', result: { stdout: '', stderr: '', rc: 0 }, msg: `${p.creates} exists` };
  if (p.removes && state && !state.removesExists) return { kind: 'ok', result: { stdout: '', stderr: '', rc: 0 }, msg: `${p.removes} does not exist` };
  let full = body;
  if (p.env) {
    const assigns = Object.entries(p.env).map(([k, v]) => Buffer.concat([Buffer.from(`${k}=`), sh`${v}`.bytes]));
    full = new Command(Buffer.concat([Buffer.from('export '), Buffer.concat(assigns.flatMap((a, i) => (i ? [Buffer.from(' '), a] : [a]))), Buffer.from('\n'), full.bytes]));
  }
  if (p.chdir) full = Command.join([sh`cd -- ${p.chdir}`, full]);
  if (p.stdin !== undefined) full = full.withStdin(p.stdin);
  return {
    kind: 'change',
    msg: `run ${shown}`,
    // With creates/removes the guard says it would run; without, nothing can be predicted.
    unpredictable: !p.creates && !p.removes,
    commands: [full],
    result: commandResult,
    failure: (r) => {
      const result = commandResult(r);
      const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-6).join('\n');
      return new OpFailure(`exited ${r.code}: ${shown}${tail ? `\n${tail}` : ''}`, r, result);
    },
  };
}

/** Runs a program with arguments, each quoted; no shell syntax is interpreted. */
export const command = defineOp({
  kind: 'command',
  schema: commandSchema,
  describe: (p) => p.argv.join(' '),
  probe: guardProbe,
  readOnly: (p) => p.readOnly === true,
  decide: (p, state) => decideRun(p, sh`exec ${p.argv}`, sh`${p.argv}`.display().slice(0, 120), state),
});

/** Runs a POSIX sh script as written (pipes, redirections); `set -e` is on. */
export const shell = defineOp({
  kind: 'shell',
  schema: shellSchema,
  describe: (p) => p.script.split('\n')[0]!,
  probe: guardProbe,
  readOnly: (p) => p.readOnly === true,
  decide: (p, state) =>
    decideRun(p, Command.join([sh`set -e`, new Command(Buffer.from(p.script, 'utf8'))], '\n'), p.script.split('\n')[0]!.slice(0, 120), state),
});
