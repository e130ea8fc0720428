import type { ResumedHost } from '../model/events.ts';
import { Handler, type Item, type Task } from '../model/task.ts';
import type { Registered } from '../runner/host-session.ts';
import type { ResumePoint } from '../runner/progress.ts';
import { InputError, WithheldResultError } from '../shell/errors.ts';
import { formatLocation } from '../shell/location.ts';
import { unfinishedHosts, type HostRecord, type RecordedTask, type RunRecord } from './record-format.ts';
import { decodeResult } from './result-codec.ts';
import type { PlayIdentities } from './task-identity.ts';

interface Start {
  play: number;
  ordinal: number;
  /** Its pending handlers, found again in the playbook. */
  handlers: { play: number; handler: Handler<any, any> }[];
}

/**
 * Turns a run record into a {@link ResumePoint}: the hosts that failed, were
 * unreachable or had not finished run again, each from the task where it
 * stopped (found again in the playbook by its path and name), with the
 * results the earlier tasks registered put back and its pending handlers
 * notified again. Every other host enters no play: it is never contacted.
 */
export class ResumePlanner implements ResumePoint {
  readonly #starts = new Map<string, Start>();
  readonly positions: ResumedHost[] = [];

  constructor(
    readonly record: RunRecord,
    private readonly plays: PlayIdentities[],
    inventoryHosts: ReadonlySet<string> | Map<string, unknown>,
  ) {
    for (const host of unfinishedHosts(record)) {
      if (!inventoryHosts.has(host)) continue;
      const start = this.#startOf(host, record.hosts[host]!);
      this.#starts.set(host, start);
      this.positions.push(this.#position(host, start));
    }
  }

  /** Hosts run again, in the record's order. */
  get hosts(): string[] {
    return [...this.#starts.keys()];
  }

  #item(t: RecordedTask, host: string): Item {
    const play = this.plays[t.play];
    const item = play?.find(t);
    if (!item) {
      throw new InputError(
        `run record ${this.record.id}`,
        `${host} stopped at task "${t.name}" (play ${t.play + 1}, path ${t.path}), which the playbook no longer has: run it again without --resume`,
      );
    }
    return item;
  }

  #startOf(host: string, h: HostRecord): Start {
    const handlers = h.pendingHandlers.map((p) => {
      const handler = this.#item(p, host);
      if (!(handler instanceof Handler)) throw new InputError(`run record ${this.record.id}`, `pending handler "${p.name}" of ${host} is not a handler of play ${p.play + 1} any more`);
      return { play: p.play, handler };
    });
    // A stop is kept whatever the status says: a host killed after it failed, or not run by a resume, is still stopped there.
    const stopped = h.stoppedAt;
    if (stopped) {
      const item = this.#item(stopped, host);
      // A handler that failed: the host's tasks of that play are done; the handler is pending again.
      return { play: stopped.play, ordinal: item instanceof Handler ? stopped.ordinal : this.plays[stopped.play]!.resumeOrdinal(item), handlers };
    }
    if (h.done) return { play: h.done.play, ordinal: this.plays[h.done.play]!.of(this.#item(h.done, host)).ordinal + 1, handlers };
    return { play: 0, ordinal: 0, handlers };
  }

  #position(host: string, start: Start): ResumedHost {
    const play = this.plays[start.play]!;
    const task = play.tasks().find(([t, id]) => id.ordinal === start.ordinal && !(t instanceof Handler));
    const pending = this.record.hosts[host]!.pendingHandlers.map((p) => p.name);
    return {
      host,
      play: start.play,
      playName: play.play.name,
      ...(task ? { task: { name: task[1].name, path: task[1].path, ordinal: start.ordinal, ...(task[0].location ? { location: formatLocation(task[0].location) } : {}) } } : {}),
      pendingHandlers: pending,
    };
  }

  entersPlay(play: number, host: string): boolean {
    const start = this.#starts.get(host);
    return start !== undefined && play >= start.play;
  }

  passes(play: number, item: Item, host: string): boolean {
    const start = this.#starts.get(host);
    if (!start || play !== start.play) return false;
    return this.plays[play]!.lastOrdinal(item) < start.ordinal;
  }

  pendingHandlers(play: number, host: string): Handler<any, any>[] {
    return (this.#starts.get(host)?.handlers ?? []).filter((p) => p.play === play).map((p) => p.handler);
  }

  /**
   * The results the host's earlier tasks registered: of the tasks before its
   * resume position (a host not resumed: all of them, for other hosts'
   * resultOf). A result the record withheld (a secret was in it, or it was
   * too large) is put back as one that fails the task reading it, saying why.
   */
  restore(host: string, results: Map<Task<unknown>, Registered>): void {
    const h = this.record.hosts[host];
    if (!h) return;
    const start = this.#starts.get(host);
    for (const r of h.results) {
      const play = this.plays[r.task.play];
      const item = play?.find(r.task);
      if (!item || item.kind !== 'task') continue;
      const ordinal = item instanceof Handler ? r.task.ordinal : play!.of(item).ordinal;
      if (start && (r.task.play > start.play || (r.task.play === start.play && ordinal >= start.ordinal))) continue;
      results.set(item as Task<unknown>, r.withheld ? withheldResult(r, this.record.id) : { status: r.status, result: decodeResult(r.value ?? null), msg: r.msg });
    }
  }
}

function withheldResult(r: { task: RecordedTask; status: Registered['status']; msg?: string; withheld?: 'secret' | 'size' }, runId: string): Registered {
  const why = r.withheld === 'size' ? 'did not fit in the run record (1 MiB per result, 16 MiB for all of them)' : 'held a secret';
  return {
    status: r.status,
    msg: r.msg,
    get result(): unknown {
      throw new WithheldResultError(`the result of task "${r.task.name}" ${why}, so run record ${runId} did not keep it; a resumed run cannot read it: run the playbook again without --resume`);
    },
  };
}
