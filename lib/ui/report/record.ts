import type { Diff } from '../../shell/diff.ts';
import type { PlanEvent } from '../plan-format.ts';
import type { HostStatus, RecapCounts, ResumedHost, RunEvent, RunRecordRef } from '../../model/events.ts';

/** One host's result of one task, placed on the run's clock (ms since the run started). */
export interface HostRun {
  host: string;
  status: HostStatus;
  ignored: boolean;
  startMs: number;
  durationMs: number;
  msg?: string;
  diff?: Diff;
  delegatedTo?: string;
  location?: string;
}

export interface TaskRun {
  id: string;
  play: string;
  task: string;
  handler: boolean;
  location?: string;
  results: HostRun[];
}

/** A finished run as data: what the HTML report is drawn from. */
export interface RunRecord {
  playbook: string;
  check: boolean;
  inventory: string[];
  startedAt: Date;
  /** Hosts in the order plays first named them. */
  hosts: string[];
  tasks: TaskRun[];
  recap?: { hosts: Record<string, RecapCounts>; durationMs: number };
  notes: { kind: 'warning' | 'error' | 'interrupted'; message: string }[];
  /** --plan / --apply: the plan written or applied, its digests and refusals. */
  plans: PlanEvent[];
  /** --resume: the run resumed, and where each host started again. */
  resumed?: { from: string; hosts: ResumedHost[]; changed?: string };
  /** The run's own record under .rigger/runs/, and the hosts it left unfinished. */
  recordedAs?: RunRecordRef;
}

/**
 * Collects run events (already redacted by the bus) into a RunRecord. A
 * task-host event arrives when the host finishes the task, so its bar
 * starts durationMs before that moment.
 */
export class RunRecorder {
  readonly record: RunRecord = { playbook: '', check: false, inventory: [], startedAt: new Date(), hosts: [], tasks: [], notes: [], plans: [] };
  readonly #tasks = new Map<string, TaskRun>();
  #t0: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.#t0 = now();
  }

  #addHosts(hosts: string[]): void {
    for (const h of hosts) if (!this.record.hosts.includes(h)) this.record.hosts.push(h);
  }

  handle(e: RunEvent): void {
    const r = this.record;
    switch (e.type) {
      case 'run-start':
        this.#t0 = this.now();
        Object.assign(r, { playbook: e.playbook, check: e.check, inventory: e.inventory, startedAt: new Date() });
        break;
      case 'play-start':
        this.#addHosts(e.hosts);
        break;
      case 'task-start': {
        const t: TaskRun = { id: e.id, play: e.play, task: e.task, handler: e.handler, results: [], ...(e.location ? { location: e.location } : {}) };
        this.#tasks.set(e.id, t);
        r.tasks.push(t);
        this.#addHosts(e.hosts);
        break;
      }
      case 'task-host': {
        const end = this.now() - this.#t0;
        const { type: _type, task: _task, id, ignored, ...rest } = e;
        this.#tasks.get(id)?.results.push({ ...rest, ignored: ignored ?? false, startMs: Math.max(0, end - e.durationMs) });
        break;
      }
      case 'recap':
        r.recap = { hosts: e.hosts, durationMs: e.durationMs };
        if (e.record) r.recordedAs = e.record;
        break;
      case 'resume':
        r.resumed = { from: e.from, hosts: e.hosts, ...(e.changed ? { changed: e.changed } : {}) };
        break;
      case 'warning':
      case 'error':
        r.notes.push({ kind: e.type, message: e.message });
        break;
      case 'interrupted':
        r.notes.push({ kind: 'interrupted', message: `interrupted by ${e.signal}: remote commands stopped` });
        break;
      case 'plan':
        r.plans.push(e);
        break;
      case 'output':
      case 'command':
      case 'task-end':
      case 'play-end':
      case 'profile':
        break;
    }
  }
}
