import { Command, groupForExec } from '../shell/command.ts';
import type { Diff } from '../shell/diff.ts';
import { UnreachableError } from '../shell/errors.ts';
import type { HostStatus } from '../model/events.ts';
import type { Fact } from '../model/fact.ts';
import { NotReady, type HostContext } from '../model/host-context.ts';
import { OpFailure, type Decision, type Op, type Probe, type Remote } from '../model/op.ts';
import type { Task } from '../model/task.ts';
import type { Become, ExecResult } from '../transport/types.ts';
import type { HostSession, ProbeItem } from './host-session.ts';
import { opWaitKind } from '../model/profile.ts';
import { commandsKey, headWithLinks, splitHeadWithLinks, type AheadLink } from './run-ahead.ts';
import type { PlanHook } from './plan-hook.ts';
import { guardedChange } from './guarded-change.ts';

export interface TaskOutcome {
  status: HostStatus;
  msg?: string;
  diff?: Diff;
  result?: unknown;
  ignored?: boolean;
  durationMs: number;
}

/** What the task runner needs from the run around it. */
export interface TaskEnv {
  check: boolean;
  /** The context for the task's functions; speculative while looking ahead. */
  context(speculative: boolean): HostContext<any>;
  /** The host the op runs on (the delegate when delegating). */
  target: HostSession;
  become: Become | undefined;
  /**
   * Later tasks of the same list, whose probes may share this round trip.
   * `adjacent`: nothing but tasks of this host lies between (no block,
   * handler flush, delegated or run-once task), so its change may run ahead.
   */
  lookahead: { task: Task<any>; env: () => TaskEnv; adjacent: boolean }[];
  /** Host-local changes of the adjacent tasks may ride in a change's round trip (off for anyErrorsFatal, maxFailPercentage, runAhead: false). */
  runAhead: boolean;
  /** The play's declared facts, read in the same round trip as the first probes. */
  prefetchFacts: Fact<unknown>[];
  /** Another inventory host's session and become, for an op's Remote.onHost; undefined for a name not in the inventory. */
  otherHost?: (host: string) => { target: HostSession; become: Become | undefined } | undefined;
  /** --plan records each decision, --apply judges it against the saved plan (plan-hook.ts). */
  plan?: PlanHook;
}

const MAX_BATCH = 64;
/** Probes of tasks beyond the run-ahead chain read in a change's round trip; enough to reach the next change. */
const PROBES_AFTER_CHANGE = 8;
const MAX_NOT_READY = 8;

export function describeWhen(fn: (...args: never[]) => unknown): string {
  const text = fn.toString().replace(/\s+/g, ' ');
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** What gathering facts for a condition needs: a block's `when` has no task around it. */
export type FactEnv = Pick<TaskEnv, 'context' | 'target' | 'become' | 'prefetchFacts'>;

/** Evaluates a task or block function, gathering any fact it asks for first. */
export async function withFacts<T>(env: FactEnv, taskId: string, fn: (h: HostContext<any>) => T): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return fn(env.context(false));
    } catch (err) {
      if (!(err instanceof NotReady) || !err.need.fact || i >= MAX_NOT_READY) throw err;
      const missing = [err.need.fact, ...env.prefetchFacts.filter((f) => f !== err.need.fact && !env.target.facts.has(f))];
      await gather(env.target, missing, taskId, env.become);
    }
  }
}

async function gather(session: HostSession, facts: Fact<unknown>[], taskId: string, become: Become | undefined) {
  await session.probeBatch(
    facts.map((f) => ({ key: `fact:${f.name}`, command: f.command, fact: f })),
    taskId,
    become,
  );
}

function resolveOp(task: Task<any>, h: HostContext<any>): Op<unknown, unknown> {
  const op = task.options.op;
  return (typeof op === 'function' ? op(h) : op) as Op<unknown, unknown>;
}

function sameBecome(a: Become | undefined, b: Become | undefined): boolean {
  if (!a || !b) return a === b;
  return a.user === b.user && a.password?.reveal() === b.password?.reveal();
}

/** Probes of this task and of the tasks after it that can already be evaluated. */
function collectProbes(task: Task<any>, ownProbe: Probe<unknown> | undefined, env: TaskEnv, limit = MAX_BATCH) {
  const items: ProbeItem[] = [];
  if (ownProbe) items.push({ key: task.id, command: ownProbe.command, read: ownProbe.read });
  for (const f of env.prefetchFacts) if (!env.target.facts.has(f)) items.push({ key: `fact:${f.name}`, command: f.command, fact: f });
  for (const next of env.lookahead) {
    if (items.length >= limit) break;
    const nextEnv = next.env();
    if (nextEnv.target !== env.target || !sameBecome(nextEnv.become, env.become)) break;
    try {
      const h = nextEnv.context(true);
      if (next.task.options.when && !next.task.options.when(h)) continue;
      const nextOp = resolveOp(next.task, h);
      if (nextOp.problems.length > 0 || !nextOp.probe) continue;
      if (!env.target.probes.has(next.task.id)) items.push({ key: next.task.id, command: nextOp.probe.command, read: nextOp.probe.read });
    } catch (err) {
      if (err instanceof NotReady && err.need.fact && !env.target.facts.has(err.need.fact)) {
        items.push({ key: `fact:${err.need.fact.name}`, command: err.need.fact.command, fact: err.need.fact });
      }
      // Anything this task needs that is not known yet ends the look-ahead here.
      break;
    }
  }
  return items;
}

function remoteFor(env: Pick<TaskEnv, 'target' | 'become' | 'otherHost'>, taskId: string): Remote {
  const run = (c: Command) => env.target.exec(c, taskId, env.become);
  return {
    run,
    check: async (c) => {
      const r = await run(c);
      if (r.code !== 0) throw new OpFailure(failureText(c, r), r);
      return r;
    },
    stream: (c, sink) => env.target.exec(c, taskId, env.become, { stdoutTo: sink }),
    onHost: (host) => {
      const other = env.otherHost?.(host);
      if (!other) throw new OpFailure(`${host} is not a host of this inventory`);
      return remoteFor({ ...other, otherHost: env.otherHost }, taskId);
    },
  };
}

export function failureText(c: Command, r: ExecResult): string {
  const err = r.stderr.toString('utf8').trim() || r.stdout.toString('utf8').trim();
  const tail = err.split('\n').slice(-6).join('\n');
  return `command exited ${r.code}: ${c.display().split('\n')[0]!.slice(0, 200)}${tail ? `\n${tail}` : ''}`;
}

/**
 * Runs a change's commands. The probes of the tasks that follow ride in the
 * same exec after the last command (marked by its exit status), so a
 * converge costs one round trip per changed task instead of two; so do the
 * guarded host-local changes of the tasks right after it (run-ahead.ts).
 */
async function applyChange(decision: Change, env: TaskEnv, taskId: string, next: ProbeItem[], links: AheadLink[]) {
  const remote = remoteFor(env, taskId);
  if (decision.apply) return decision.apply(remote);
  const execs = groupForExec(decision.commands ?? []);
  if (execs.length === 0) return undefined;
  let last: ExecResult | undefined;
  for (let i = 0; i < execs.length; i++) {
    const c = execs[i]!;
    if (i === execs.length - 1 && (next.length > 0 || links.length > 0)) {
      last = await execWithFollowers(c, env, taskId, next, links);
    } else last = await remote.run(c);
    if (last.code !== 0) throw failureOf(decision, c, last);
  }
  return decision.result && last ? decision.result(last) : undefined;
}

async function execWithFollowers(act: Command, env: TaskEnv, taskId: string, next: ProbeItem[], links: AheadLink[]): Promise<ExecResult> {
  const layout = headWithLinks(act, links);
  const { command: batch, split } = env.target.probeCommand(next);
  const combined = new Command(Buffer.concat([layout.bytes, Buffer.from('{\n'), batch.bytes, Buffer.from('\n} </dev/null\nexit "$rigger_rc"\n')]), layout.stdin, layout.quiet || batch.quiet);
  const r = await env.target.exec(combined, taskId, env.become);
  const parts = splitHeadWithLinks(r, layout, links);
  if (!parts) return r;
  parts.ran.forEach((ran, i) => {
    const link = links[i]!;
    env.target.ranAhead.set(link.taskId, { decidedFrom: link.decidedFrom, commands: commandsKey(link.commands), act: ran });
  });
  if (parts.rest && next.length > 0) {
    try {
      // A joined path read that did not add up is not cached: its task probes again.
      const outs = split(parts.rest);
      const read = next.flatMap((n, i) => (outs[i] ? [{ item: n, out: outs[i]! }] : []));
      env.target.store(read.map((r) => r.item), read.map((r) => r.out));
    } catch {
      // Unreadable probe output is simply not cached: the next task probes again.
    }
  }
  return parts.head;
}

const MAX_LINKS = 32;
const MAX_LINK_STDIN = 8 * 1024 * 1024;

/**
 * The adjacent tasks after this one whose host-local change can ride in its
 * round trip: decided from the probe outputs read before this change, with
 * facts already dropped (a task that needs a fact stops the chain, as facts
 * may change with this change). The guard on the host re-checks each probe.
 */
function aheadLinks(task: Task<any>, env: TaskEnv, before: Map<string, ExecResult>): AheadLink[] {
  if (!env.runAhead || env.check || !plainForRunAhead(task)) return [];
  const links: AheadLink[] = [];
  let stdinBytes = 0;
  for (const next of env.lookahead) {
    if (!next.adjacent || links.length >= MAX_LINKS || !plainForRunAhead(next.task)) break;
    const decidedFrom = before.get(next.task.id);
    if (!decidedFrom) break;
    try {
      const nextEnv = next.env();
      if (nextEnv.target !== env.target || !sameBecome(nextEnv.become, env.become)) break;
      const h = nextEnv.context(true);
      if (next.task.options.when && !next.task.options.when(h)) break;
      const op = resolveOp(next.task, h);
      if (op.problems.length > 0 || !op.probe || !op.hostLocal || op.readOnly || op.probe.command.quiet) break;
      const decision = op.decide(op.probe.parse(decidedFrom));
      if (decision.kind !== 'change' || decision.apply || !decision.commands?.length) break;
      stdinBytes += decision.commands.reduce((n, c) => n + c.stdinLength(), 0);
      if (stdinBytes > MAX_LINK_STDIN) break;
      links.push({ taskId: next.task.id, probe: op.probe.command, decidedFrom, commands: decision.commands });
    } catch {
      break;
    }
  }
  return links;
}

/** Options that judge a task after its change ran (a failedWhen, an until) would come too late for the tasks run after it. */
function plainForRunAhead(task: Task<any>): boolean {
  const o = task.options;
  return !o.failedWhen && !o.until;
}

/** A task whose change already ran in an earlier task's round trip: report it from what ran. */
function fromRanAhead(op: Op<unknown, unknown>, env: TaskEnv, taskId: string): Omit<TaskOutcome, 'durationMs'> | undefined {
  const ahead = env.target.ranAhead.get(taskId);
  if (!ahead || !op.probe) return undefined;
  env.target.ranAhead.delete(taskId);
  env.target.probes.delete(taskId);
  const decision = op.decide(op.probe.parse(ahead.decidedFrom));
  if (decision.kind !== 'change' || !commandsKey(decision.commands ?? []).equals(ahead.commands)) {
    return { status: 'failed', msg: 'this task\'s change already ran ahead, but deciding again gave a different change: its when and op must be pure functions of the host context' };
  }
  if (ahead.act.code !== 0) throw failureOf(decision, Command.join(decision.commands ?? []), ahead.act);
  return changeOutcome(op, decision, decision.result ? decision.result(ahead.act) : undefined);
}

type Change = Extract<Decision<unknown>, { kind: 'change' }>;

/** A change's commands exited non-zero: the op's own wording when it has one. */
function failureOf(decision: Change, command: Command, output: ExecResult): OpFailure {
  return decision.failure?.(output) ?? new OpFailure(failureText(command, output), output);
}

/** How a change that ran is reported, whether it ran in its own round trip or ahead. */
function changeOutcome(op: Op<unknown, unknown>, decision: Change, result: unknown): Omit<TaskOutcome, 'durationMs'> {
  const unchanged = op.readOnly || (decision.unchanged !== undefined && decision.unchanged(result));
  return { status: unchanged ? 'ok' : 'changed', msg: decision.msg, ...(decision.diff ? { diff: decision.diff } : {}), result };
}

async function attempt(task: Task<any>, env: TaskEnv): Promise<Omit<TaskOutcome, 'durationMs'>> {
  const op = await withFacts(env, task.id, (h) => resolveOp(task, h));
  if (op.problems.length > 0) {
    const p = op.problems[0]!;
    return { status: 'failed', msg: `invalid parameter ${p.param} of ${op.kind}: ${p.message}` };
  }
  let state: unknown = undefined;
  // Several hosts may delegate the same task to one target at once, and the
  // target's probe cache is keyed by task: a delegated task probes on its
  // own, and never batches the probes of its host's later tasks on the target.
  const delegated = env.target.name !== env.context(false).name;
  const ranAhead = delegated ? undefined : fromRanAhead(op, env, task.id);
  if (ranAhead) return ranAhead;
  let probed: ExecResult | undefined;
  if (op.probe && delegated) {
    probed = await env.target.exec(op.probe.command, task.id, env.become, { phase: 'probe' });
    state = op.probe.parse(probed);
  } else if (op.probe) {
    // Read from what this batch returned, not from the cache after the
    // await: another host's change delegated to this one may have cleared
    // the cache (invalidate) in between.
    let out = env.target.probes.get(task.id);
    if (out) env.target.probes.delete(task.id);
    else {
      out = (await env.target.probeBatch(collectProbes(task, op.probe, env), task.id, env.become)).get(task.id)!;
      env.target.probes.delete(task.id);
    }
    probed = out;
    state = op.probe.parse(out);
  }
  const decision = op.decide(state);
  const made = { host: env.context(false).name, task, op, probed, decision };
  const verdict = env.plan?.decided(made);
  if (verdict) return verdict;
  if (decision.kind === 'ok') return { status: 'ok', result: decision.result, ...(decision.msg ? { msg: decision.msg } : {}) };
  if (decision.kind === 'skip') return { status: 'skipped', msg: decision.reason };
  if (decision.kind === 'fail') return { status: 'failed', msg: decision.reason };
  if (env.check && !op.readOnly) {
    if (decision.unpredictable) return { status: 'skipped', msg: `check mode: would ${decision.msg}` };
    return { status: 'changed', msg: decision.msg, ...(decision.diff ? { diff: decision.diff } : {}), result: decision.checkResult };
  }
  // What the next tasks would be decided from, dropped by this change.
  const before = env.target.invalidate();
  if (env.plan?.stateMoved && !op.readOnly && probed && op.probe && !decision.apply && decision.commands?.length) {
    const link = { taskId: task.id, probe: op.probe.command, decidedFrom: probed, commands: decision.commands };
    const guarded = await env.target.waitingOn(opWaitKind(op), () => guardedChange(env.target, env.become, link));
    if ('moved' in guarded) return env.plan.stateMoved(made);
    if (guarded.ran.code !== 0) throw failureOf(decision, Command.join(decision.commands), guarded.ran);
    return changeOutcome(op, decision, decision.result ? decision.result(guarded.ran) : undefined);
  }
  const links = delegated ? [] : aheadLinks(task, env, before);
  // The probes of the tasks after this one, read after the change, in the
  // same exec: those that ran ahead (in case the chain stops early) and a
  // few more. Not all of them: a cold converge would read every later
  // task's state again after every change.
  // Reads of secret content (quiet) stay out: the change's own output is streamed at -v, they never are.
  const next = delegated ? [] : collectProbes(task, undefined, env, Math.min(MAX_BATCH, links.length + PROBES_AFTER_CHANGE)).filter((n) => !n.command.quiet);
  return changeOutcome(op, decision, await env.target.waitingOn(opWaitKind(op), () => applyChange(decision, env, task.id, next, links)));
}

/** Runs one task on one host: when, op, probe, decide, act, with retries and overrides. */
export async function runTask(task: Task<any>, env: TaskEnv): Promise<TaskOutcome> {
  const started = performance.now();
  const o = task.options;
  const done = (x: Omit<TaskOutcome, 'durationMs'>): TaskOutcome => ({ ...x, durationMs: performance.now() - started });
  try {
    if (o.when && !(await withFacts(env, task.id, (h) => o.when!(h)))) {
      const reason = typeof o.whenReason === 'function' ? o.whenReason(env.context(false)) : o.whenReason;
      return done({ status: 'skipped', msg: reason ?? `when: ${describeWhen(o.when)} was false` });
    }
    const h0 = env.context(false);
    const retries = (typeof o.retries === 'function' ? o.retries(h0) : o.retries) ?? (o.until ? 3 : 0);
    const delaySeconds = (typeof o.delaySeconds === 'function' ? o.delaySeconds(h0) : o.delaySeconds) ?? 1;
    let outcome: Omit<TaskOutcome, 'durationMs'> = { status: 'failed' };
    for (let i = 0; i <= retries; i++) {
      try {
        outcome = await attempt(task, env);
      } catch (err) {
        if (err instanceof UnreachableError) throw err;
        outcome = { status: 'failed', msg: err instanceof Error ? err.message : String(err) };
        // A failedWhen replaces the op's own exit-status rule, as in Ansible.
        if (err instanceof OpFailure && err.result !== undefined && o.failedWhen) {
          outcome = { status: 'changed', result: err.result };
        }
      }
      const h = env.context(false);
      if (outcome.status !== 'skipped' && outcome.result !== undefined) {
        if (o.changedWhen) outcome.status = o.changedWhen(outcome.result, h) ? 'changed' : 'ok';
        if (o.failedWhen && o.failedWhen(outcome.result, h)) {
          outcome = { ...outcome, status: 'failed', msg: outcome.msg ?? 'failedWhen held' };
        }
      }
      const satisfied = !o.until || (outcome.status !== 'failed' && outcome.result !== undefined && o.until(outcome.result, h));
      if (satisfied && outcome.status !== 'failed') break;
      if (!o.until && outcome.status === 'failed' && o.retries === undefined) break;
      const givenUp = i < retries && o.giveUpWhen?.(outcome.result, h, { attempts: i + 1, elapsedSeconds: (performance.now() - started) / 1000 });
      if (givenUp) {
        if (o.until && !satisfied && outcome.status !== 'failed') outcome = { ...outcome, status: 'failed', msg: `until did not hold after ${i + 1} attempts` };
        break;
      }
      if (i < retries) {
        env.target.invalidate();
        await env.target.retryDelay(delaySeconds * 1000);
      } else if (o.until && !satisfied && outcome.status !== 'failed') {
        outcome = { ...outcome, status: 'failed', msg: `until did not hold after ${retries + 1} attempts` };
      }
    }
    if (outcome.status === 'failed' && o.ignoreErrors) outcome.ignored = true;
    return done(outcome);
  } catch (err) {
    if (err instanceof UnreachableError) return done({ status: 'unreachable', msg: err.message });
    const failed: Omit<TaskOutcome, 'durationMs'> = { status: 'failed', msg: err instanceof Error ? err.message : String(err) };
    if (o.ignoreErrors) failed.ignored = true;
    return done(failed);
  }
}
