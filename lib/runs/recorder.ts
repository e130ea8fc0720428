import type { HostStatus, RecapCounts } from '../model/events.ts';
import { Handler, type Block, type Task } from '../model/task.ts';
import type { Registered } from '../runner/host-session.ts';
import type { ProgressObserver } from '../runner/progress.ts';
import { redact, redactDeep } from '../shell/secret.ts';
import type { HostRecord, RecordedResult, RecordedTask, RunRecord } from './record-format.ts';
import { encodeSized, MAX_RECORD_RESULTS_BYTES, MAX_RESULT_BYTES } from './result-codec.ts';
import type { RunStore } from './run-store.ts';
import type { PlayIdentities } from './task-identity.ts';

/**
 * Keeps a run's record as the run goes (which host reached which task,
 * its registered results, the handlers still pending) and writes it when
 * the caller asks (cli/run-record.ts: at a task's end when due, at a
 * play's end, at the run's), so a killed controller leaves a record of
 * what finished before.
 */
export class RunRecorder implements ProgressObserver {
  readonly #results = new Map<string, Map<string, RecordedResult>>();
  /** The plays each host is to run and has not gone through yet: a host with any left did not finish. */
  readonly #playsLeft = new Map<string, Set<number>>();
  #dirty = true;
  /** A host stopped (failed, unreachable) since the last write: written at the task's end, not later. */
  #stopped = false;
  #lastWrite = 0;
  /**
   * Hosts whose stop came from the run this one resumes: kept until the
   * host passes it (a host that does not run this time, or is killed
   * before it gets there, is resumed from it again), replaced by its first
   * failure in this run.
   */
  readonly #inherited = new Set<string>();
  /** The size of each result kept (by host and task) and of all of them: bounded by MAX_RECORD_RESULTS_BYTES. */
  readonly #resultBytes = new Map<string, number>();
  #allResultBytes = 0;
  /** The size of the last write: a larger record is written less often (WRITE_BYTES_PER_MS). */
  #lastBytes = 0;

  constructor(
    private readonly store: RunStore,
    readonly record: RunRecord,
    private readonly plays: PlayIdentities[],
  ) {
    for (const [host, h] of Object.entries(record.hosts)) {
      this.#results.set(host, new Map(h.results.map((r) => [key(r.task), r])));
      for (const r of h.results) {
        const bytes = r.value === undefined ? 0 : JSON.stringify(r.value).length;
        this.#resultBytes.set(`${host}\0${key(r.task)}`, bytes);
        this.#allResultBytes += bytes;
      }
      if (h.stoppedAt) this.#inherited.add(host);
    }
  }

  #host(name: string): HostRecord {
    let h = this.record.hosts[name];
    if (!h) this.record.hosts[name] = h = { status: 'running', pendingHandlers: [], results: [] };
    return h;
  }

  #identity(play: number, item: Task<any> | Block, host: HostRecord): RecordedTask {
    const id = this.plays[play]!.of(item);
    const { play: p, path } = id;
    // A task's name is the user's text: one that shows a secret is written redacted.
    const name = redact(id.name);
    // A handler runs at a flush, after the tasks the host finished: a resume starts after them.
    const ordinal = item instanceof Handler ? (host.done?.play === play ? host.done.ordinal + 1 : 0) : id.ordinal;
    return { play: p, path, name, ordinal };
  }

  ended(play: number, item: Task<any> | Block, hostName: string, status: HostStatus, ignored: boolean, registered: Registered | undefined): void {
    const host = this.#host(hostName);
    const at = this.#identity(play, item, host);
    const isHandler = item instanceof Handler;
    if ((status === 'failed' && !ignored) || status === 'unreachable') {
      // The earliest failure no rescue caught is where the host resumes: a
      // failing rescue or always after it must not hide it (the block's
      // body would count as done, and its rescue never run again).
      if (!host.stoppedAt || this.#inherited.has(hostName)) host.stoppedAt = at;
      this.#inherited.delete(hostName);
      if (status === 'unreachable') host.status = 'unreachable';
      this.#stopped = true;
    } else {
      if (!isHandler && item.kind === 'task') host.done = at;
      if (this.#inherited.has(hostName) && passedBy(at, isHandler, host.stoppedAt!)) {
        delete host.stoppedAt;
        this.#inherited.delete(hostName);
      }
    }
    if (isHandler && (status !== 'failed' || ignored) && status !== 'unreachable') {
      host.pendingHandlers = host.pendingHandlers.filter((p) => key(p) !== key(at));
    }
    if (registered && item.kind === 'task') this.#result(hostName, at, registered);
    this.#dirty = true;
  }

  hostFailed(hostName: string): void {
    const host = this.#host(hostName);
    if (host.status === 'unreachable') return;
    host.status = 'failed';
    this.#stopped = true;
    this.#dirty = true;
  }

  rescued(play: number, block: Block, hostName: string): void {
    const host = this.#host(hostName);
    const inside = `${this.plays[play]!.of(block).path}/`;
    if (host.stoppedAt && !this.#inherited.has(hostName) && host.stoppedAt.play === play && host.stoppedAt.path.startsWith(inside)) delete host.stoppedAt;
    this.#dirty = true;
  }

  #result(host: string, task: RecordedTask, r: Registered): void {
    const k = `${host}\0${key(task)}`;
    // A task run again (a loop of plays, a resume) replaces its result: its old size is given back.
    const before = this.#resultBytes.get(k) ?? 0;
    const room = MAX_RECORD_RESULTS_BYTES - (this.#allResultBytes - before);
    const { result, bytes } = encodeSized(r.result, Math.min(MAX_RESULT_BYTES, room));
    this.#resultBytes.set(k, bytes);
    this.#allResultBytes += bytes - before;
    const entry: RecordedResult = { task, status: r.status, ...(r.msg !== undefined ? { msg: redact(r.msg) } : {}), ...result };
    let map = this.#results.get(host);
    if (!map) this.#results.set(host, (map = new Map()));
    map.set(key(task), entry);
  }

  notified(play: number, hostName: string, handlers: Handler<any, any>[]): void {
    const host = this.#host(hostName);
    for (const h of handlers) {
      const at = this.#identity(play, h, host);
      if (!host.pendingHandlers.some((p) => key(p) === key(at))) host.pendingHandlers.push(at);
    }
    this.#dirty = true;
  }

  /** The hosts of each play (by index), before any task: each host is running until it ends. */
  starting(plays: string[][]): void {
    plays.forEach((hosts, play) => {
      for (const h of hosts) {
        this.#host(h).status = 'running';
        let left = this.#playsLeft.get(h);
        if (!left) this.#playsLeft.set(h, (left = new Set()));
        left.add(play);
      }
    });
    this.#dirty = true;
  }

  playEnded(play: number, hosts: string[]): void {
    for (const h of hosts) this.#playsLeft.get(h)?.delete(play);
  }

  /** Where the record is written. */
  get file(): string {
    return this.store.fileOf(this.record.id);
  }

  /** Removes this playbook's oldest records beyond the number kept (run-store.ts). */
  prune(): void {
    this.store.prune(this.record.playbook);
  }

  /**
   * Writes the record when anything changed since the last write. Every
   * text in it was checked as it came (results, messages, task names);
   * `durable` (the run's end) also flushes it to disk, after redacting the
   * whole record once more, as every event is: too slow to repeat at each
   * task's end, where it would read the whole record again each time.
   */
  save(durable = false): void {
    if (!this.#dirty) return;
    for (const [host, map] of this.#results) this.#host(host).results = [...map.values()];
    this.#lastBytes = this.store.write(durable ? redactDeep(this.record) : this.record, durable);
    this.#dirty = false;
    this.#stopped = false;
    this.#lastWrite = performance.now();
  }

  /**
   * How long until what changed should be written: 0 when a host stopped
   * since the last write, or that write is SAVE_EVERY_MS old. Writing the
   * whole record after every task of a fast no-op run would cost more than
   * the run; so the record lags the run by at most that much, and a
   * controller killed in between loses at most that much progress (those
   * tasks run again on a resume: a host that had not finished resumes
   * after the last task the record shows finished).
   */
  dueInMs(): number {
    if (!this.#dirty) return Infinity;
    if (this.#stopped) return 0;
    // Rewriting a large record every quarter second would write ever more (the record grows with the run):
    // the interval grows with its size, so the run writes at most about WRITE_BYTES_PER_MS.
    const every = Math.max(SAVE_EVERY_MS, this.#lastBytes / WRITE_BYTES_PER_MS);
    return Math.max(0, every - (performance.now() - this.#lastWrite));
  }

  /**
   * The run ended: each host's status from the recap. A host that neither
   * failed nor went through every play it was in (an interrupt, a play
   * aborted by anyErrorsFatal or maxFailPercentage, a later play that
   * haltOnFailure kept from starting) stays running: unfinished, and
   * resumed as such. Written by the next save().
   */
  finish(counts: Map<string, RecapCounts>, interrupted: boolean): void {
    for (const [name, c] of counts) {
      const host = this.#host(name);
      // An interrupt leaves running only the hosts it kept from a play: one that went through all of its plays is ok.
      const unfinished = (this.#playsLeft.get(name)?.size ?? 0) > 0;
      host.status = c.unreachable > 0 ? 'unreachable' : c.failed > 0 ? 'failed' : unfinished ? 'running' : 'ok';
      if (host.status === 'ok') delete host.stoppedAt;
    }
    this.record.state = interrupted ? 'interrupted' : 'finished';
    this.record.endedAt = new Date().toISOString();
    this.#dirty = true;
  }
}

const SAVE_EVERY_MS = 250;
/** About 4 MiB a second: a record of 1 MiB is written at most every quarter second, one of 16 MiB every 4 s. */
const WRITE_BYTES_PER_MS = 4 * 1024;

/** Whether a task that ended well at `at` lies at or past a stop: the host went beyond where it had stopped. */
function passedBy(at: RecordedTask, isHandler: boolean, stop: RecordedTask): boolean {
  if (isHandler) return key(at) === key(stop) || at.play > stop.play;
  return at.play > stop.play || (at.play === stop.play && at.ordinal >= stop.ordinal);
}

function key(t: Pick<RecordedTask, 'play' | 'path'>): string {
  return `${t.play}\0${t.path}`;
}
