import { z } from '../../shell/zod.ts';
import { Command, raw, sh, type StdinPart } from '../../shell/command.ts';
import { absolutePath, defineOp, OpFailure, type Decision, type Probe } from '../../model/op.ts';
import { Secret } from '../../shell/secret.ts';
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
  /** Environment; a Secret value is set through stdin, never in the command line. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _'), z.union([z.string(), z.instanceof(Secret)])).optional(),
  /** Standard input; a Secret here never appears in argv or logs. */
  stdin: z.union([z.string(), z.instanceof(Secret)]).optional(),
  /**
   * Files of mode 0600 in a private temp dir that exists while the command
   * runs, named by `$RIGGER_SECRETS` (`--defaults-file="$RIGGER_SECRETS/my.cnf"`).
   */
  secretFiles: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, 'a file name: letters, digits, . _ -').refine((n) => n !== '.' && n !== '..', 'a file name, not . or ..'), z.instanceof(Secret)).optional(),
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
  const { prelude, stdin } = secretPrelude(p);
  let full = body;
  const plainEnv = Object.entries(p.env ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string');
  if (plainEnv.length > 0) {
    const assigns = plainEnv.map(([k, v]) => Buffer.concat([Buffer.from(`${k}=`), sh`${v}`.bytes]));
    full = new Command(Buffer.concat([Buffer.from('export '), Buffer.concat(assigns.flatMap((a, i) => (i ? [Buffer.from(' '), a] : [a]))), Buffer.from('\n'), full.bytes]));
  }
  if (prelude) full = new Command(Buffer.concat([prelude.bytes, Buffer.from('\n'), full.bytes]), stdin);
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

/**
 * Secret env values and secret files, taken from the head of stdin (each as
 * a length line, then exactly that many bytes): files into a 0700 temp dir
 * that the EXIT trap removes, whichever way the command ends; env values
 * into the shell's memory only. Nothing of them is in
 * argv: `ps` on the host shows only names.
 */
function hasSecretSetup(p: Common): boolean {
  return Object.values(p.env ?? {}).some((v) => v instanceof Secret) || Object.keys(p.secretFiles ?? {}).length > 0;
}

function secretPrelude(p: Common): { prelude?: Command; stdin: StdinPart[] } {
  const env = Object.entries(p.env ?? {}).filter((e): e is [string, Secret] => e[1] instanceof Secret);
  const files = Object.entries(p.secretFiles ?? {});
  if (env.length === 0 && files.length === 0) return { stdin: [] };
  const take = (file: string) => sh`IFS= read -r rigger_n && head -c "$rigger_n" > "$RIGGER_SECRETS"/${file} || { echo "rigger: cannot set up the secrets" >&2; exit 1; }`;
  const lines = [
    sh`RIGGER_SECRETS=$(umask 077 && mktemp -d "\${TMPDIR:-/tmp}/rigger.XXXXXXXX") || { echo "rigger: cannot set up the secrets" >&2; exit 1; }`,
    sh`trap 'rm -rf -- "$RIGGER_SECRETS"' EXIT; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE`,
    sh`export RIGGER_SECRETS; umask_was=$(umask); umask 077`,
    ...files.map(([name]) => take(name)),
    // Read into the shell's memory through a pipe, never a file: an env value has no file to be its target.
    // $(...) drops trailing newlines; the x keeps them.
    ...env.map(([name]) => sh`IFS= read -r rigger_n && ${raw(name)}=$(head -c "$rigger_n"; echo x) && ${raw(name)}=\${${raw(name)}%x} && export ${raw(name)} || { echo "rigger: cannot set up the secrets" >&2; exit 1; }`),
    sh`umask "$umask_was"`,
  ];
  const stdin: StdinPart[] = [...files.map(([, v]) => v), ...env.map(([, v]) => v)].flatMap((v) => [`${Buffer.byteLength(v.reveal())}\n`, v]);
  return { prelude: Command.join(lines, "\n"), stdin };
}

/** Runs a program with arguments, each quoted; no shell syntax is interpreted. */
export const command = defineOp({
  kind: 'command',
  schema: commandSchema,
  describe: (p) => p.argv.join(' '),
  probe: guardProbe,
  readOnly: (p) => p.readOnly === true,
  // Not exec'd when secrets were set up: the EXIT trap must remove them after.
  decide: (p, state) => decideRun(p, hasSecretSetup(p) ? sh`${p.argv}` : sh`exec ${p.argv}`, sh`${p.argv}`.display().slice(0, 120), state),
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
