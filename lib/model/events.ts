import type { Diff } from '../shell/diff.ts';
import type { RunProfile } from './profile.ts';
import { redactDeep } from '../shell/secret.ts';

/**
 * Everything the engine says, as data. The engine never prints: renderers
 * (terminal tree, plain lines, NDJSON) subscribe to these events. Every
 * event is redacted once, here, before any renderer sees it.
 */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface RecapCounts {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  rescued: number;
  ignored: number;
}

/** Where a host starts again in a resumed run (--resume): the play and task, by index and name. */
export interface ResumedHost {
  host: string;
  /** The play's index in the playbook (0 is the first). */
  play: number;
  playName: string;
  /** The task it starts from (ordinal: its place among the play's tasks, from 0); absent when it resumes at the play's handlers. */
  task?: { name: string; path: string; ordinal: number; location?: string };
  /** Handlers notified before it stopped and not run then: they run at the play's flush. */
  pendingHandlers: string[];
}

/** Where a run's record is, named by the recap. */
export interface RunRecordRef {
  id: string;
  file: string;
  unfinished: string[];
}

export type RunEvent =
  | { type: 'run-start'; playbook: string; check: boolean; diff: boolean; inventory: string[] }
  /** --resume: right after run-start; `changed`: what --resume-anyway let through. */
  | { type: 'resume'; from: string; hosts: ResumedHost[]; changed?: string }
  | { type: 'play-start'; play: string; hosts: string[]; location?: string }
  | { type: 'task-start'; play: string; task: string; id: string; hosts: string[]; location?: string; handler: boolean }
  | {
      type: 'task-host';
      task: string;
      id: string;
      host: string;
      status: HostStatus;
      durationMs: number;
      msg?: string;
      diff?: Diff;
      delegatedTo?: string;
      ignored?: boolean;
      location?: string;
    }
  | { type: 'task-end'; id: string }
  | { type: 'output'; host: string; id: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'command'; host: string; id: string; command: string }
  | { type: 'warning'; message: string }
  | { type: 'play-end'; play: string }
  | { type: 'interrupted'; signal: string }
  | { type: 'error'; message: string }
  /** --plan / --apply (lib/plans/): the plan written or applied, its digests, and what --apply refused. Before the recap. */
  | { type: 'plan'; action: PlanAction; file: string; id: string; message: string; digests: Record<string, string>; refusals: PlanRefusal[] }
  /** --profile: emitted once, just before the recap. */
  | { type: 'profile'; profile: RunProfile }
  /** `record`: the run's record (.rigger/runs/ID/run.json), absent when none was written; `unfinished`: the hosts --resume would run again. */
  | { type: 'recap'; hosts: Record<string, RecapCounts>; durationMs: number; record?: RunRecordRef };

/** written: --plan saved it; applied: --apply ran it; already-applied: nothing left to do; refused: not applied at all (stale inputs, --all-or-nothing). */
export type PlanAction = 'written' | 'applied' | 'already-applied' | 'refused';

/** A planned task --apply did not run, and why. */
export interface PlanRefusal {
  host: string;
  task: string;
  reason: string;
}

export type EventListener = (event: RunEvent) => void;

export class EventBus {
  readonly #listeners: EventListener[] = [];
  on(listener: EventListener): void {
    this.#listeners.push(listener);
  }
  emit(event: RunEvent): void {
    const safe = redactDeep(event);
    for (const l of this.#listeners) l(safe);
  }
}

export function emptyCounts(): RecapCounts {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 };
}
