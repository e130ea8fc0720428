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

export type RunEvent =
  | { type: 'run-start'; playbook: string; check: boolean; diff: boolean; inventory: string[] }
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
  | { type: 'recap'; hosts: Record<string, RecapCounts>; durationMs: number };

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
