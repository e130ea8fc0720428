import { z } from '../shell/zod.ts';
import type { Command } from '../shell/command.ts';
import type { PathRead } from './path-read.ts';
import { containsSecret } from '../shell/secret.ts';
import type { Diff } from '../shell/diff.ts';
import type { ExecResult } from '../transport/types.ts';
import type { WaitKind } from './profile.ts';

/**
 * The op contract. An op is the unit of idempotency:
 *   probe  - one read-only command whose output describes the current state
 *            (batched with other ops' probes into one round trip per host);
 *   decide - a pure function from that state to ok / skip / change;
 *   change - the commands that converge the host, never run in check mode.
 * Check mode is the same code stopping before the commands run.
 */
export type OpStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface Probe<S> {
  command: Command;
  /** Pure: the probe's output in, the state out. Throw ProbeError for output that makes no sense. */
  parse(result: ExecResult): S;
  /** A path-state read: its stat and sha256sum may be joined with other path probes' (runner/path-batch.ts). */
  read?: PathRead | undefined;
}

/** Runs commands on the host the task targets; given to ops that need several steps. */
export interface Remote {
  run(command: Command): Promise<ExecResult>;
  /** Runs and throws OpFailure on a non-zero exit. */
  check(command: Command): Promise<ExecResult>;
  /** Runs with stdout written to a local stream (a dump read by a local pg_restore), never held in memory. */
  stream(command: Command, sink: NodeJS.WritableStream): Promise<ExecResult>;
  /**
   * Another host of the run, through its own session (its connection, its
   * become): for an op that moves bytes between two hosts through the
   * controller, e.g. a command's stdout there streamed into a command's stdin
   * here (shell/stdin-source.ts StreamStdin; backup/ops/pull-set.ts). Throws
   * for a host not in the inventory. Absent where no run is around the op.
   */
  onHost?(host: string): Remote;
}

export type Decision<R> =
  | { kind: 'ok'; result: R; msg?: string }
  | { kind: 'skip'; reason: string }
  /** The host is in a state the op must not touch (a directory where a file belongs). */
  | { kind: 'fail'; reason: string }
  | {
      kind: 'change';
      /** What will change, in a few words: shown in the run and in check mode. */
      msg: string;
      diff?: Diff;
      /** Converging commands, run in order in one round trip, stopping at the first failure. */
      commands?: Command[];
      /** For ops that must read between steps. */
      apply?: (remote: Remote) => Promise<R>;
      /** The result after the commands ran, from their outputs. */
      result?: (outputs: ExecResult) => R;
      /** The failure when the last command exits non-zero, if the op words it itself (and keeps a result for failedWhen). */
      failure?: (outputs: ExecResult) => OpFailure;
      /** The result reported in check mode, where nothing ran. */
      checkResult?: R;
      /** Commands that cannot be predicted in check mode (a plain command) report skipped there. */
      unpredictable?: boolean;
      /** After the change ran: true when it turned out to change nothing (a deploy that left every spec equal). */
      unchanged?(result: R): boolean;
    };

export interface Op<R = unknown, S = unknown> {
  readonly kind: string;
  /** Validated parameters, for display and --diff; secrets inside print as ***. */
  readonly params: unknown;
  /** Parameter problems found by the op's schema: the runner fails the task with them before touching the host. */
  readonly problems: readonly ParamProblem[];
  describe(): string;
  probe?: Probe<S>;
  decide(state: S): Decision<R>;
  /** Read-only ops (facts, checks) run in check mode too. */
  readonly readOnly?: boolean;
  /**
   * Its probe and change touch only this host's own files, nothing another
   * host or a network service provides: its change may run ahead, in the
   * round trip of the change before it (runner/run-ahead.ts).
   */
  readonly hostLocal?: boolean;
  /**
   * --profile: what its change phase waits on, where its kind does not say
   * (ops.each over Docker stacks is kind 'stacks'); see model/profile.ts.
   */
  readonly waitKind?: WaitKind | undefined;
}

export interface ParamProblem {
  param: string;
  message: string;
}

/** A command ran and failed: the host's task fails with this message. */
export class OpFailure extends Error {
  constructor(
    message: string,
    readonly output?: ExecResult,
    /** The op's result despite the failure, so failedWhen can overrule it. */
    readonly result?: unknown,
  ) {
    super(message);
    this.name = 'OpFailure';
  }
}

export function problemsOf(error: z.ZodError): ParamProblem[] {
  return error.issues.map((i) => ({ param: i.path.join('.') || '(parameters)', message: i.message }));
}

export interface OpDefinition<Schema extends z.ZodType, R, S> {
  kind: string;
  schema: Schema;
  describe: (p: z.output<Schema>) => string;
  /** May return undefined when these parameters need no state (a command without creates). */
  probe?: (p: z.output<Schema>) => Probe<S> | undefined;
  decide: (p: z.output<Schema>, state: S) => Decision<R>;
  readOnly?: boolean | ((p: z.output<Schema>) => boolean);
  /** See Op.hostLocal. */
  hostLocal?: boolean;
}

/**
 * Defines an op from a zod schema: the factory's parameter type is the
 * schema's input (so a typo is a compile error) and the same schema checks
 * values that arrive at run time. Invalid parameters do not throw here: the
 * op carries its problems so the runner can name the task that declared it.
 */
export function defineOp<Schema extends z.ZodType, R, S = undefined>(def: OpDefinition<Schema, R, S>) {
  return (input: z.input<Schema>): Op<R, S> => {
    const parsed = def.schema.safeParse(input);
    if (!parsed.success) {
      const problems = problemsOf(parsed.error);
      return {
        kind: def.kind,
        params: input,
        problems,
        describe: () => def.kind,
        decide: () => {
          throw new Error('invalid op parameters');
        },
      };
    }
    const p = parsed.data as z.output<Schema>;
    const op: Op<R, S> = {
      kind: def.kind,
      params: p,
      problems: [],
      describe: () => def.describe(p),
      decide: (state: S) => def.decide(p, state),
      readOnly: typeof def.readOnly === 'function' ? def.readOnly(p) : (def.readOnly ?? false),
      hostLocal: def.hostLocal ?? false,
    };
    const probe = def.probe?.(p);
    // What an op reads about a Secret's file is never streamed (its content, its checksum).
    if (probe) op.probe = containsSecret(p) ? { ...probe, command: probe.command.quietly() } : probe;
    return op;
  };
}

/** Common parameter schemas. */
export const absolutePath = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => s.startsWith('/'), 'must be an absolute path (start with /)')
  .refine((s) => !s.includes('\0'), 'must not contain a NUL byte');

/** Modes are strings: a YAML or JS number 644 is decimal 644, the classic Ansible trap. */
export const fileMode = z
  .string({ error: "a mode is a string of octal digits like '0644'" })
  .transform((v, ctx) => {
    const text = v;
    if (!/^0?[0-7]{3,4}$/.test(text)) {
      ctx.addIssue({ code: 'custom', message: `a mode is 3 or 4 octal digits like '0644', got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return text.padStart(4, '0');
  });
