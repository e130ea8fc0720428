import type { HostStatus } from '../model/events.ts';
import type { Block, Handler, Item, Task } from '../model/task.ts';
import type { Registered } from './host-session.ts';

// The runner's two seams for recording a run and resuming one (lib/runs/
// implements both). The runner only calls these; it knows nothing of files.

/** Told what each host did, as it happens, so a run can be recorded (.rigger/runs/). */
export interface ProgressObserver {
  /** A task (or handler, or a block's `when`) ended on a host; `registered` is what later tasks read, absent when unreachable. */
  ended(play: number, item: Task<any> | Block, host: string, status: HostStatus, ignored: boolean, registered: Registered | undefined): void;
  /** Handlers a host's change notified in this play (run later, at a flush). */
  notified(play: number, host: string, handlers: Handler<any, any>[]): void;
  /** The runner counts this host failed (a failure no rescue caught): from now on it is failed, whatever comes after. */
  hostFailed(host: string): void;
  /** A block's rescue ran through on this host: the failures in the block's body are rescued. */
  rescued(play: number, block: Block, host: string): void;
  /** These hosts went through the whole play, handlers flushed (not those a failure, an abort or an interrupt stopped). */
  playEnded(play: number, hosts: string[]): void;
}

/** Where each host starts again in a resumed run (lib/runs/resume-planner.ts). */
export interface ResumePoint {
  /** Whether the host runs any part of this play (hosts not resumed run none, and are never contacted). */
  entersPlay(play: number, host: string): boolean;
  /** Whether the host passes this task or block by: it ended before the host's resume position. */
  passes(play: number, item: Item, host: string): boolean;
  /** Handlers notified before the failure and not run then: run at this play's next flush. */
  pendingHandlers(play: number, host: string): Handler<any, any>[];
  /** The results the earlier run registered on this host, put back before its first task. */
  restore(host: string, results: Map<Task<unknown>, Registered>): void;
}
