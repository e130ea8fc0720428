import { InputError, InterruptedError, ExitCode, UnreachableError } from '../shell/errors.ts';
import { emptyCounts, type EventBus, type RecapCounts } from '../model/events.ts';
import { formatLocation } from '../shell/location.ts';
import { Secret } from '../shell/secret.ts';
import type { Play } from '../model/play.ts';
import { Block, Handler, Task, type Item } from '../model/task.ts';
import { plainVars, resolveHostVars, typedVars } from './host-vars.ts';
import { resolvePattern } from '../inventory/patterns.ts';
import { ansibleBoolean } from '../inventory/connection-vars.ts';
import type { Inventory } from '../inventory/inventory.ts';
import type { VarValue } from '../inventory/model.ts';
import type { Become, Transport } from '../transport/types.ts';
import { Semaphore } from '../transport/semaphore.ts';
import { exceedsMaxFail, serialBatches } from './batches.ts';
import { HostSession } from './host-session.ts';
import { makeHostContext } from './host-context-impl.ts';
import { FLUSH_HANDLERS, type Scope } from '../model/scope.ts';
import { anySelected, blockItems, playItems, scopeOfPlay } from './play-items.ts';
import { selectedByTags } from './tags.ts';
import { unmatchedTagsWarning } from './tag-check.ts';
import { Profiler } from '../model/profile.ts';
import { runTask, withFacts, type FactEnv, type TaskEnv, type TaskOutcome } from './task-runner.ts';
import type { PlanHook } from './plan-hook.ts';
import type { ProgressObserver, ResumePoint } from './progress.ts';
import type { Registered } from './host-session.ts';

export interface RunnerOptions {
  inventory: Inventory;
  check: boolean;
  diff: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Map<string, VarValue>;
  forks: number;
  verbosity: number;
  bus: EventBus;
  /** Every task's outcome on every host, results included (for playbooks that print a report). */
  onOutcome?: (row: { task: Task<any>; host: string; outcome: TaskOutcome }) => void;
  transportFor: (host: string, vars: Record<string, unknown>) => Transport;
  /** --profile: split each host's time per play (model/profile.ts), emitted as a `profile` event before the recap. */
  profile?: boolean;
  /** --plan / --apply: sees every decision before anything changes (plan-hook.ts). */
  planHook?: PlanHook;
  /** Told each host's progress, so the run can be recorded under .rigger/runs/ (lib/runs/recorder.ts). */
  progress?: ProgressObserver;
  /** --resume: only the hosts that failed, from their failed task, with earlier results restored (lib/runs/resume-planner.ts). */
  resume?: ResumePoint;
}

export interface PlannedPlay {
  play: Play;
  hosts: string[];
}

export interface RunSummary {
  counts: Map<string, RecapCounts>;
  durationMs: number;
  interrupted: boolean;
  exitCode: number;
}

class PlayAbort extends Error {}

/** A task later in the list, and whether only tasks lie between (run-ahead.ts). */
interface Following {
  item: Task<any>;
  scope: Scope;
  adjacent: boolean;
}

interface BatchState {
  /** The play's index in the playbook: with a task's path, its identity in a run record. */
  playIndex: number;
  hosts: string[];
  failed: Set<string>;
  notified: Map<string, Set<Handler<any, any>>>;
  play: Play;
  planned: PlannedPlay;
}

/**
 * Runs plays with Ansible's linear strategy: each task runs on every host of
 * the batch (up to --forks at once) before the next task starts. A failed
 * host stops only itself; an unreachable host leaves the run.
 */
export class Runner {
  readonly sessions = new Map<string, HostSession>();
  readonly counts = new Map<string, RecapCounts>();
  readonly #dead = new Set<string>();
  readonly #varsCache = new Map<string, Map<string, VarValue>>();
  readonly #typedCache = new Map<string, Record<string, unknown>>();
  #interrupted = false;
  readonly #forks: Semaphore;
  readonly #profiler: Profiler | undefined;

  constructor(private readonly o: RunnerOptions) {
    this.#forks = new Semaphore(Math.max(1, o.forks));
    this.#profiler = o.profile ? new Profiler() : undefined;
  }

  /**
   * Everything that can be checked without a host: patterns, variables
   * against each role's schema, static op parameters. Throws InputError.
   */
  plan(plays: Play[]): PlannedPlay[] {
    const limit = this.o.limit ? new Set(resolvePattern(this.o.inventory, this.o.limit, 'command line --limit')) : undefined;
    const planned = plays.map((play, index) => {
      const where = play.location ?? `play ${play.name}`;
      const hosts = resolvePattern(this.o.inventory, play.options.hosts, where)
        .filter((h) => !limit || limit.has(h))
        .filter((h) => !this.o.resume || this.o.resume.entersPlay(index, h));
      for (const host of hosts) {
        this.#typed(play, play.schema, `play "${play.name}"`, host);
        for (const role of play.options.roles ?? []) this.#typed(play, role.defaults, `role ${role.name}`, host);
      }
      const items = [...(play.options.roles ?? []).flatMap((r) => [...r.tasks, ...r.handlers]), ...play.tasks, ...(play.options.handlers ?? [])];
      forEachTask(items, (t) => {
        const op = t.options.op;
        if (typeof op !== 'function' && op !== (FLUSH_HANDLERS as unknown) && op.problems.length > 0) {
          const p = op.problems[0]!;
          throw new InputError(t.location ?? `task ${t.name}`, `task "${t.name}": invalid parameter ${p.param} of ${op.kind}: ${p.message}`);
        }
      });
      return { play, hosts };
    });
    const tagWarning = unmatchedTagsWarning(plays, this.o.tags, this.o.skipTags);
    if (tagWarning) this.o.bus.emit({ type: 'warning', message: tagWarning });
    return planned;
  }

  /**
   * Opens the first play's connections (up to --forks) ahead of its first
   * task. A play whose tasks --tags/--skip-tags leave out runs nothing, so
   * it contacts no host (Ansible would still gather facts there).
   */
  connectEarly(planned: PlannedPlay[]): void {
    const first = planned.find((p) => p.hosts.length > 0 && anySelected(playItems(p.play), (t, s) => this.#selected(t, s)));
    for (const host of first?.hosts.slice(0, this.o.forks) ?? []) this.#session(host, first!.play).transport.connectEarly?.();
  }

  interrupt(): void {
    if (this.#interrupted) return;
    this.#interrupted = true;
    for (const s of this.sessions.values()) void s.transport.close();
  }

  /** The second Ctrl-C: every transport ends what it still runs, now (the process exits next). */
  abort(): void {
    for (const s of this.sessions.values()) s.transport.abort?.();
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  async run(planned: PlannedPlay[]): Promise<RunSummary> {
    const started = performance.now();
    for (const p of planned) for (const h of p.hosts) if (!this.counts.has(h)) this.counts.set(h, emptyCounts());
    try {
      for (const [index, p] of planned.entries()) {
        // A play every resumed host finished before it stopped is not run at all (no play-start, no "no hosts" warning).
        if (this.o.resume && p.hosts.length === 0) continue;
        await this.#runPlay(p, index);
        const down = p.play.options.haltOnFailure ? p.hosts.filter((h) => this.#dead.has(h)) : [];
        if (down.length > 0) {
          this.o.bus.emit({ type: 'warning', message: `play "${p.play.name}" failed on ${down.join(', ')}: haltOnFailure stops the run here, no later play starts` });
          break;
        }
      }
    } catch (err) {
      if (!(err instanceof InterruptedError)) throw err;
    } finally {
      await Promise.all([...this.sessions.values()].map((s) => s.transport.close()));
    }
    if (this.#profiler) this.o.bus.emit({ type: 'profile', profile: this.#profiler.result() });
    const durationMs = performance.now() - started;
    const all = [...this.counts.values()];
    const exitCode = this.#interrupted
      ? ExitCode.interrupted
      : all.some((c) => c.failed > 0)
        ? ExitCode.taskFailed
        : all.some((c) => c.unreachable > 0)
          ? ExitCode.unreachable
          : ExitCode.ok;
    return { counts: this.counts, durationMs, interrupted: this.#interrupted, exitCode };
  }

  // ---- variables and sessions -------------------------------------------

  #vars(play: Play, host: string): Map<string, VarValue> {
    const key = `${play.name}\0${host}`;
    let v = this.#varsCache.get(key);
    if (!v) {
      const playVars = new Map<string, VarValue>(
        Object.entries(play.options.vars ?? {}).map(([k, value]) => [k, { value, origin: play.location ?? `play ${play.name}` }]),
      );
      v = resolveHostVars(this.o.inventory, host, playVars, this.o.extraVars);
      this.#varsCache.set(key, v);
    }
    return v;
  }

  #typed(play: Play, schema: Scope['schema'], owner: string, host: string): Record<string, unknown> {
    const key = `${play.name}\0${owner}\0${host}`;
    let t = this.#typedCache.get(key);
    if (!t) {
      t = typedVars(schema, this.#vars(play, host), owner, host) as Record<string, unknown>;
      this.#typedCache.set(key, t);
    }
    return t;
  }

  #session(host: string, play: Play): HostSession {
    let s = this.sessions.get(host);
    if (!s) {
      const vars = plainVars(this.#vars(play, host));
      s = new HostSession(host, this.o.transportFor(host, vars), this.o.bus, this.o.verbosity, this.#profiler);
      this.sessions.set(host, s);
      this.o.resume?.restore(host, s.results);
    }
    return s;
  }

  /** `own`: a task's become options (a block's condition has none: the play's apply). */
  #become(play: Play, own: { become?: boolean; becomeUser?: string }, host: string): Become | undefined {
    const vars = plainVars(this.#vars(play, host));
    const enabled = own.become ?? play.options.become ?? ansibleBoolean(vars.ansible_become);
    if (!enabled) return undefined;
    const user = own.becomeUser ?? play.options.becomeUser ?? (vars.ansible_become_user as string | undefined) ?? 'root';
    const pw = vars.ansible_become_password ?? vars.ansible_become_pass;
    const become: Become = { user };
    if (pw !== undefined) become.password = pw instanceof Secret ? pw : new Secret(String(pw));
    return become;
  }

  // ---- plays and batches ------------------------------------------------

  async #runPlay(p: PlannedPlay, playIndex: number): Promise<void> {
    const { play } = p;
    const hosts = p.hosts.filter((h) => !this.#dead.has(h));
    // A role's tasks are the same objects in every play that uses it: a
    // change that ran ahead belongs to this play's run of the task only.
    for (const s of this.sessions.values()) s.ranAhead.clear();
    this.o.bus.emit({ type: 'play-start', play: play.name, hosts, ...(play.location ? { location: formatLocation(play.location) } : {}) });
    this.#profiler?.startPlay(play.name, hosts);
    if (hosts.length === 0) this.o.bus.emit({ type: 'warning', message: `play "${play.name}": no hosts left to run on` });
    const playScope = scopeOfPlay(play);
    const items = playItems(play);
    const handlerOrder = [...(play.options.roles ?? []).flatMap((r) => r.handlers), ...(play.options.handlers ?? [])];
    for (const batchHosts of serialBatches(hosts, play.options.serial)) {
      const batch: BatchState = { playIndex, hosts: batchHosts, failed: new Set(), notified: new Map(), play, planned: p };
      for (const h of batchHosts) this.#notifyAll(this.o.resume?.pendingHandlers(playIndex, h) ?? [], h, batch);
      let aborted = false;
      try {
        const failed = await this.#runList(items, batchHosts, batch, false);
        for (const h of failed) this.#fail(h);
      } catch (err) {
        if (!(err instanceof PlayAbort)) throw err;
        for (const h of batch.failed) this.#fail(h);
        this.o.bus.emit({ type: 'warning', message: err.message });
        aborted = true;
      }
      await this.#flushHandlers(batch, handlerOrder, playScope);
      if (aborted) break;
      this.o.progress?.playEnded(playIndex, batchHosts.filter((h) => !this.#dead.has(h)));
    }
    this.#profiler?.endPlay();
    this.o.bus.emit({ type: 'play-end', play: play.name });
  }

  #fail(host: string): void {
    if (this.#dead.has(host)) return;
    this.#dead.add(host);
    this.counts.get(host)!.failed++;
    this.o.progress?.hostFailed(host);
  }

  /** Runs a list on the given hosts; returns the hosts that failed in it (not rescued). */
  async #runList(items: { item: Item; scope: Scope }[], hosts: string[], batch: BatchState, rescuable: boolean): Promise<Set<string>> {
    const failed = new Set<string>();
    const alive = () => hosts.filter((h) => !failed.has(h) && !this.#dead.has(h));
    for (let i = 0; i < items.length; i++) {
      if (this.#interrupted) throw new InterruptedError();
      const { item, scope } = items[i]!;
      if (alive().length === 0) break;
      // A resumed host passes by what it finished in the run it resumes.
      const active = alive().filter((h) => !this.o.resume?.passes(batch.playIndex, item, h));
      if (active.length === 0) continue;
      if (item instanceof Block) {
        for (const h of await this.#runBlock(item, scope, active, batch, rescuable)) failed.add(h);
      } else if (item.options.op === (FLUSH_HANDLERS as unknown)) {
        await this.#flushHandlers(batch, [...batch.notified.values()].flatMap((s) => [...s]), scope);
      } else {
        if (!this.#selected(item, scope)) continue;
        const rest = this.#following(items.slice(i + 1));
        const outcomes = await this.#runTaskOnHosts(item, scope, active, batch, rest);
        for (const [h, o] of outcomes) if (o.status === 'failed' && !o.ignored) failed.add(h);
      }
      if (this.#interrupted) throw new InterruptedError();
      if (!rescuable) this.#checkFailureLimits(batch, failed);
    }
    return failed;
  }

  /** The selected tasks after this one; `adjacent` until a block or a handler flush lies between. */
  #following(items: { item: Item; scope: Scope }[]): Following[] {
    const rest: Following[] = [];
    let adjacent = true;
    for (const x of items) {
      if (!(x.item instanceof Task) || x.item.options.op === (FLUSH_HANDLERS as unknown)) adjacent = false;
      else if (this.#selected(x.item, x.scope)) rest.push({ item: x.item, scope: x.scope, adjacent });
    }
    return rest;
  }

  #checkFailureLimits(batch: BatchState, failedNow: Set<string>): void {
    // Outside any block with a rescue, a failure is final: recorded failed now, before a kill could lose it.
    for (const h of failedNow) if (!batch.failed.has(h)) this.o.progress?.hostFailed(h);
    for (const h of failedNow) batch.failed.add(h);
    const down = batch.hosts.filter((h) => batch.failed.has(h) || this.counts.get(h)!.unreachable > 0).length;
    const { anyErrorsFatal, maxFailPercentage } = batch.play.options;
    if (anyErrorsFatal && batch.failed.size > 0) {
      throw new PlayAbort(`play "${batch.play.name}" aborted: a host failed and anyErrorsFatal is set`);
    }
    if (exceedsMaxFail(down, batch.hosts.length, maxFailPercentage)) {
      throw new PlayAbort(
        `play "${batch.play.name}" aborted: ${down} of ${batch.hosts.length} hosts failed, more than maxFailPercentage ${maxFailPercentage}%`,
      );
    }
  }

  #selected(task: Task<any>, scope: Scope): boolean {
    const tags = new Set([...scope.tags, ...(task.options.tags ?? [])]);
    return selectedByTags(tags, this.o.tags, this.o.skipTags);
  }

  async #runBlock(block: Block, scope: Scope, hosts: string[], batch: BatchState, rescuable: boolean): Promise<Set<string>> {
    const blockScope: Scope = { ...scope, tags: new Set([...scope.tags, ...(block.options.tags ?? [])]) };
    const wrap = (list: Item[] | undefined) => (list ?? []).map((item) => ({ item, scope: blockScope }));
    // A block that --tags leave empty is passed by: its when (which may gather facts) is not evaluated.
    if (!anySelected(blockItems(block, scope), (t, s) => this.#selected(t, s), true)) return new Set();
    const { entering, failed: conditionFailed } = await this.#blockCondition(block, blockScope, hosts, batch);
    const hasRescue = (block.options.rescue?.length ?? 0) > 0;
    const blockFailed = await this.#runList(wrap(block.options.block), entering, batch, rescuable || hasRescue);
    let stillFailed = blockFailed;
    if (hasRescue && blockFailed.size > 0) {
      const toRescue = [...blockFailed].filter((h) => !this.#dead.has(h));
      const rescueFailed = await this.#runList(wrap(block.options.rescue), toRescue, batch, rescuable);
      for (const h of toRescue) {
        if (rescueFailed.has(h) || this.#dead.has(h)) continue;
        this.counts.get(h)!.rescued++;
        this.o.progress?.rescued(batch.playIndex, block, h);
      }
      stillFailed = rescueFailed;
    }
    const alwaysFailed = await this.#runList(wrap(block.options.always), entering.filter((h) => !this.#dead.has(h)), batch, rescuable);
    return new Set([...conditionFailed, ...stillFailed, ...alwaysFailed]);
  }

  /**
   * A block's `when` on each host, with the facts it reads gathered as for a
   * task's. A condition that throws fails the host at the block's line, as a
   * task's does: the host does not enter the block, nor its rescue or always
   * (they share the condition), and an enclosing rescue may catch it.
   */
  async #blockCondition(block: Block, scope: Scope, hosts: string[], batch: BatchState): Promise<{ entering: string[]; failed: Set<string> }> {
    const when = block.options.when;
    if (!when) return { entering: hosts, failed: new Set() };
    const play = batch.play;
    const passed = new Set<string>();
    const errors = new Map<string, { status: 'failed' | 'unreachable'; msg: string }>();
    await Promise.all(
      hosts.map(async (host) => {
        const release = await this.#forks.acquire();
        try {
          if (this.#interrupted) return;
          const env: FactEnv = {
            context: (speculative) => this.#context(play, scope, host, speculative),
            target: this.#session(host, play),
            become: this.#become(play, {}, host),
            prefetchFacts: play.options.facts ?? [],
          };
          if (await withFacts(env, block.id, when)) passed.add(host);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          errors.set(host, { status: err instanceof UnreachableError ? 'unreachable' : 'failed', msg });
        } finally {
          release();
        }
      }),
    );
    const failed = new Set<string>();
    if (errors.size > 0) {
      const location = block.location ? formatLocation(block.location) : undefined;
      const name = `when of ${block.options.name ? `block "${block.options.name}"` : 'a block'}`;
      this.o.bus.emit({ type: 'task-start', play: play.name, task: name, id: block.id, hosts: [...errors.keys()], handler: false, ...(location ? { location } : {}) });
      for (const [host, e] of errors) {
        if (e.status === 'unreachable') {
          this.counts.get(host)!.unreachable++;
          this.#dead.add(host);
        } else failed.add(host);
        this.o.progress?.ended(batch.playIndex, block, host, e.status, false, undefined);
        this.o.bus.emit({ type: 'task-host', task: name, id: block.id, host, status: e.status, durationMs: 0, msg: e.msg, ...(e.status === 'failed' && location ? { location } : {}) });
      }
      this.o.bus.emit({ type: 'task-end', id: block.id });
    }
    return { entering: hosts.filter((h) => passed.has(h)), failed };
  }

  async #flushHandlers(batch: BatchState, order: Handler<any, any>[], scope: Scope): Promise<void> {
    const force = batch.play.options.forceHandlers === true;
    const seen = new Set<Handler<any, any>>();
    const all = [...order, ...[...batch.notified.values()].flatMap((s) => [...s])];
    for (const handler of all) {
      if (seen.has(handler)) continue;
      seen.add(handler);
      const hosts = batch.hosts.filter((h) => {
        if (!batch.notified.get(h)?.has(handler)) return false;
        if (this.counts.get(h)!.unreachable > 0) return false;
        return force || !this.#dead.has(h);
      });
      for (const h of batch.hosts) batch.notified.get(h)?.delete(handler);
      if (hosts.length === 0) continue;
      if (this.#interrupted) throw new InterruptedError();
      const outcomes = await this.#runTaskOnHosts(handler, scope, hosts, batch, [], true);
      for (const [h, o] of outcomes) if (o.status === 'failed' && !o.ignored) this.#fail(h);
    }
  }

  // ---- one task across hosts --------------------------------------------

  #context(play: Play, scope: Scope, host: string, speculative: boolean) {
    const vars = this.#typed(play, scope.schema, scope.owner, host);
    const all = plainVars(this.#vars(play, host));
    return makeHostContext(
      {
        session: this.#session(host, play),
        vars,
        allVars: all,
        groups: [...this.o.inventory.groupsOf(host)],
        check: this.o.check,
        // A resumed run has no session yet for a host it does not run; one made here holds the restored results and never connects.
        sessionOf: (name) => this.sessions.get(name) ?? (this.o.resume && this.o.inventory.hosts.has(name) ? this.#session(name, play) : undefined),
        hostVars: (name) => plainVars(this.#vars(play, name)),
        groupHosts: (group) => this.o.inventory.hostsOf(group),
      },
      speculative,
    );
  }

  #env(task: Task<any>, scope: Scope, host: string, batch: BatchState, rest: Following[]): TaskEnv {
    const play = batch.play;
    const delegate = task.options.delegateTo;
    let target = this.#session(host, play);
    if (delegate !== undefined) {
      const name = typeof delegate === 'function' ? delegate(this.#context(play, scope, host, false)) : delegate;
      if (!this.o.inventory.hosts.has(name)) {
        throw new InputError(task.location ?? `task ${task.name}`, `delegateTo names ${name}, which is not in the inventory`);
      }
      target = this.#session(name, play);
    }
    return {
      check: this.o.check,
      context: (speculative) => this.#context(play, scope, host, speculative),
      target,
      become: this.#become(play, task.options, delegate !== undefined ? target.name : host),
      prefetchFacts: play.options.facts ?? [],
      // Another host's session is the run's one connection to it; its become is the task's options on that host.
      otherHost: (name) => (this.o.inventory.hosts.has(name) ? { target: this.#session(name, play), become: this.#become(play, task.options, name) } : undefined),
      lookahead: delegate !== undefined || task.options.runOnce ? [] : this.#lookahead(rest, host, batch),
      // A change that ran ahead would pass by the plan's judgement of its task.
      runAhead: play.options.runAhead !== false && !play.options.anyErrorsFatal && play.options.maxFailPercentage === undefined && !this.o.planHook,
      ...(this.o.planHook ? { plan: this.o.planHook } : {}),
    };
  }

  /** Later tasks for this host; a delegated or run-once task in between ends adjacency (it runs elsewhere or once). */
  #lookahead(rest: Following[], host: string, batch: BatchState): TaskEnv['lookahead'] {
    let adjacent = true;
    const out: TaskEnv['lookahead'] = [];
    for (const r of rest) {
      if (r.item.options.delegateTo !== undefined || r.item.options.runOnce) {
        adjacent = false;
        continue;
      }
      adjacent &&= r.adjacent;
      out.push({ task: r.item, env: () => this.#env(r.item, r.scope, host, batch, []), adjacent });
    }
    return out;
  }

  async #runTaskOnHosts(
    task: Task<any>,
    scope: Scope,
    hosts: string[],
    batch: BatchState,
    rest: Following[],
    isHandler = false,
  ): Promise<Map<string, TaskOutcome>> {
    const location = task.location ? formatLocation(task.location) : undefined;
    const runOn = task.options.runOnce ? hosts.slice(0, 1) : hosts;
    this.o.bus.emit({
      type: 'task-start',
      play: batch.play.name,
      task: task.name,
      id: task.id,
      hosts: runOn,
      handler: isHandler,
      ...(location ? { location } : {}),
    });
    const outcomes = new Map<string, TaskOutcome>();
    await Promise.all(
      runOn.map(async (host) => {
        const release = await this.#forks.acquire();
        try {
          if (this.#interrupted) return;
          let outcome: TaskOutcome;
          let delegatedTo: string | undefined;
          try {
            const env = this.#env(task, scope, host, batch, rest);
            if (env.target.name !== host) delegatedTo = env.target.name;
            outcome = await runTask(task, env);
          } catch (err) {
            outcome = { status: 'failed', msg: (err as Error).message, durationMs: 0 };
          }
          if (this.#interrupted) return;
          outcomes.set(host, outcome);
          this.#record(task, host, outcome, batch);
          this.o.onOutcome?.({ task, host, outcome });
          this.o.bus.emit({
            type: 'task-host',
            task: task.name,
            id: task.id,
            host,
            status: outcome.status,
            durationMs: Math.round(outcome.durationMs),
            ...(outcome.msg !== undefined ? { msg: outcome.msg } : {}),
            ...(outcome.diff && this.o.diff ? { diff: outcome.diff } : {}),
            ...(delegatedTo ? { delegatedTo } : {}),
            ...(outcome.ignored ? { ignored: true } : {}),
            ...(outcome.status === 'failed' && location ? { location } : {}),
          });
        } finally {
          release();
        }
      }),
    );
    if (task.options.runOnce && runOn[0] && outcomes.has(runOn[0])) {
      const first = outcomes.get(runOn[0])!;
      for (const h of hosts.slice(1)) {
        const copy: Registered = { status: first.status === 'unreachable' ? 'failed' : first.status, result: first.result, msg: first.msg };
        this.#session(h, batch.play).results.set(task, copy);
        this.o.progress?.ended(batch.playIndex, task, h, copy.status, first.ignored === true, copy);
        if (first.status === 'changed') this.#notify(task, h, batch);
      }
    }
    this.o.bus.emit({ type: 'task-end', id: task.id });
    return outcomes;
  }

  #notify(task: Task<any>, host: string, batch: BatchState): void {
    this.#notifyAll(task.options.notify ?? [], host, batch);
  }

  #notifyAll(handlers: Handler<any, any>[], host: string, batch: BatchState): void {
    if (handlers.length === 0) return;
    let set = batch.notified.get(host);
    if (!set) batch.notified.set(host, (set = new Set()));
    for (const handler of handlers) set.add(handler);
    this.o.progress?.notified(batch.playIndex, host, handlers);
  }

  #record(task: Task<any>, host: string, o: TaskOutcome, batch: BatchState): void {
    const c = this.counts.get(host) ?? emptyCounts();
    this.counts.set(host, c);
    switch (o.status) {
      case 'ok':
        c.ok++;
        break;
      case 'changed':
        c.changed++;
        this.#notify(task, host, batch);
        break;
      case 'skipped':
        c.skipped++;
        break;
      case 'failed':
        if (o.ignored) c.ignored++;
        break;
      case 'unreachable':
        c.unreachable++;
        this.#dead.add(host);
        break;
    }
    const registered = o.status === 'unreachable' ? undefined : { status: o.status, result: o.result, msg: o.msg };
    if (registered) this.#session(host, batch.play).results.set(task, registered);
    this.o.progress?.ended(batch.playIndex, task, host, o.status, o.ignored === true, registered);
  }
}

function forEachTask(items: Item[], fn: (t: Task<any>) => void): void {
  for (const item of items) {
    if (item instanceof Block) {
      forEachTask(item.options.block, fn);
      forEachTask(item.options.rescue ?? [], fn);
      forEachTask(item.options.always ?? [], fn);
    } else fn(item);
  }
}
