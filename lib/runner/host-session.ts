import { Command } from '../shell/command.ts';
import { StreamRedactor } from '../shell/secret.ts';
import type { EventBus } from '../model/events.ts';
import type { Fact } from '../model/fact.ts';
import type { OpStatus } from '../model/op.ts';
import type { Task } from '../model/task.ts';
import type { Become, ExecResult, Transport } from '../transport/types.ts';
import type { ExecPhase, Profiler, WaitKind } from '../model/profile.ts';
import { randomBytes } from 'node:crypto';
import { batchScript, splitBatch } from './probe-batch.ts';
import { joinPathReads, type PathRead } from './path-batch.ts';
import type { RanAhead } from './run-ahead.ts';

/** A probe to batch: keyed by task id (or fact), with what it reads when it is a path probe. */
export interface ProbeItem {
  key: string;
  command: Command;
  fact?: Fact<unknown>;
  read?: PathRead | undefined;
}

export interface Registered {
  status: OpStatus;
  result: unknown;
  /** What the task said: a failure's reason, a change's summary. */
  msg?: string | undefined;
}

/**
 * Everything the run knows about one host: its transport (one connection
 * for the whole run), cached probe outputs and facts, and the results its
 * tasks registered. Cached state is dropped whenever the host changes.
 */
export class HostSession {
  probes = new Map<string, ExecResult>();
  readonly facts = new Map<Fact<unknown>, unknown>();
  readonly results = new Map<Task<unknown>, Registered>();
  /**
   * Changes that rode in an earlier task's round trip (run-ahead.ts), keyed
   * by task id until the runner reaches that task. Not cleared by
   * invalidate(): they already happened and must still be reported.
   */
  readonly ranAhead = new Map<string, RanAhead>();
  /** Round trips made, for tests and benchmarks. */
  roundTrips = 0;
  /** Inside a waiting op's change phase (--profile counts its time as the wait's). */
  #waiting = 0;

  constructor(
    readonly name: string,
    readonly transport: Transport,
    private readonly bus: EventBus,
    private readonly verbosity: number,
    private readonly profiler?: Profiler,
  ) {}

  /** Runs a change phase that waits on other software (Docker, apt, a health check); --profile books its wall time there. */
  async waitingOn<T>(kind: WaitKind | undefined, fn: () => Promise<T>): Promise<T> {
    if (!this.profiler || !kind) return fn();
    const started = performance.now();
    this.#waiting++;
    try {
      return await fn();
    } finally {
      this.#waiting--;
      this.profiler.waited(this.name, kind, performance.now() - started);
    }
  }

  /** A retry's delay, on the controller: a wait, not rigger's work. */
  async retryDelay(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    this.profiler?.waited(this.name, 'retry', ms);
  }

  /** Anything changed on the host: earlier reads may be stale. Returns the probe outputs it dropped. */
  invalidate(): Map<string, ExecResult> {
    const dropped = this.probes;
    this.probes = new Map();
    this.facts.clear();
    return dropped;
  }

  async exec(command: Command, taskId: string, become: Become | undefined, how: { phase?: ExecPhase; stdoutTo?: NodeJS.WritableStream } = {}): Promise<ExecResult> {
    const result = await this.#exec(command, taskId, become, how.stdoutTo);
    if (this.profiler) {
      if (this.transport.connectMs !== undefined) this.profiler.connected(this.name, this.transport.connectMs);
      this.profiler.roundTrip(this.name, how.phase ?? 'change', result.durationMs, this.#waiting > 0);
    }
    return result;
  }

  async #exec(command: Command, taskId: string, become: Become | undefined, stdoutTo: NodeJS.WritableStream | undefined): Promise<ExecResult> {
    if (this.verbosity >= 3) this.bus.emit({ type: 'command', host: this.name, id: taskId, command: command.display() });
    this.roundTrips++;
    // A read of secret content is never streamed; other output is, redacted
    // as it arrives (a secret split between two chunks included).
    if (this.verbosity < 1 || command.quiet) return this.transport.exec(command, { ...(become ? { become } : {}), ...(stdoutTo ? { stdoutTo } : {}) });
    const streams = { stdout: new StreamRedactor(), stderr: new StreamRedactor() };
    const emit = (stream: 'stdout' | 'stderr', text: string) => {
      if (text !== '') this.bus.emit({ type: 'output', host: this.name, id: taskId, stream, text });
    };
    try {
      return await this.transport.exec(command, {
        ...(become ? { become } : {}),
        ...(stdoutTo ? { stdoutTo } : {}),
        onStdout: (c: Buffer) => emit('stdout', streams.stdout.push(c.toString('utf8'))),
        onStderr: (c: Buffer) => emit('stderr', streams.stderr.push(c.toString('utf8'))),
      });
    } finally {
      emit('stdout', streams.stdout.end());
      emit('stderr', streams.stderr.end());
    }
  }

  /**
   * Runs probes (keyed by task id or fact) in one round trip and caches each
   * output. Path probes share one stat and one sha256sum (path-batch.ts);
   * when their joined read does not add up, they are read again on their own.
   */
  async probeBatch(items: ProbeItem[], taskId: string, become: Become | undefined): Promise<Map<string, ExecResult>> {
    if (items.length === 0) return new Map();
    const { command, split } = this.probeCommand(items);
    const outputs = split(await this.exec(command, taskId, become, { phase: 'probe' }));
    const again = items.filter((_, i) => outputs[i] === undefined);
    const reread = await this.probeBatch(again.map(({ read: _, ...item }) => item), taskId, become);
    const all = items.map((item, i) => outputs[i] ?? reread.get(item.key)!);
    this.store(items, all);
    return new Map(items.map((item, i) => [item.key, all[i]!]));
  }

  /** The batch's command, and the split of its output: one output per item, undefined where a joined path read must be redone. */
  probeCommand(items: readonly ProbeItem[]) {
    const marker = `@@rigger-${randomBytes(8).toString('hex')}`;
    const joined = joinPathReads(items, marker);
    const { command } = batchScript(joined.commands, marker);
    return { command, split: (r: ExecResult) => joined.split(splitBatch(r, marker, joined.commands.length)) };
  }

  /** Caches probe outputs (and parses facts) in the order of the items. */
  store(items: { key: string; fact?: Fact<unknown> }[], outputs: ExecResult[]): void {
    items.forEach((item, i) => {
      const out = outputs[i]!;
      if (item.fact) this.facts.set(item.fact, item.fact.parse(out));
      else this.probes.set(item.key, out);
    });
  }
}
