import { randomBytes } from 'node:crypto';
import type { RunEvent } from '../model/events.ts';
import type { DecisionMade, PlanHook, PlanVerdict } from '../runner/plan-hook.ts';
import { PLAN_FORMAT, PLAN_VERSION, type PlanFile, type PlanInputs, type PlanOptions, type PlannedTask } from './format.ts';
import type { Digester, KeyParams } from './keyed-digest.ts';
import { TaskPositions } from './positions.ts';
import { decisionDigests, type DecisionDigests } from './task-digests.ts';

/** The events `plan show` replays; streamed output, echoed commands and the profile are not part of a plan (the recap comes after it is written). */
const KEPT: ReadonlySet<RunEvent['type']> = new Set(['play-start', 'task-start', 'task-host', 'task-end', 'play-end', 'warning']);

/**
 * --plan: a check-mode run seen from the side. Each decision's digests are
 * taken when it is made (decided), and joined to the task's reported
 * outcome when its task-host event arrives, in the order the run reached them.
 */
export class PlanRecorder implements PlanHook {
  readonly #positions = new TaskPositions();
  readonly #pending = new Map<string, DecisionDigests>();
  readonly #hosts: Record<string, PlannedTask[]> = {};
  readonly #events: RunEvent[] = [];
  /** Hosts with a planned change so far: the probes of their later tasks were read before it. */
  readonly #changed = new Set<string>();
  #play = '';
  readonly id = randomBytes(16).toString('hex');

  constructor(private readonly digester: Digester) {}

  decided(made: DecisionMade): PlanVerdict | undefined {
    this.#pending.set(`${made.host}\0${made.task.id}`, decisionDigests(made, this.digester));
    return undefined;
  }

  /** Every run event, from the bus. */
  handle(e: RunEvent): void {
    if (e.type === 'play-start') this.#play = e.play;
    if (e.type === 'task-host') this.#task(e);
    if (KEPT.has(e.type)) this.#events.push(e);
    this.#positions.follow(e);
  }

  #task(e: Extract<RunEvent, { type: 'task-host' }>): void {
    const digests = this.#pending.get(`${e.host}\0${e.id}`);
    this.#pending.delete(`${e.host}\0${e.id}`);
    const entry: PlannedTask = {
      key: this.#positions.key(e.host, e.id),
      play: this.#play,
      task: e.task,
      status: e.status,
      ...(e.msg !== undefined ? { msg: e.msg } : {}),
      ...digests,
      ...(this.#changed.has(e.host) ? { afterChange: true as const } : {}),
      event: this.#events.length,
    };
    (this.#hosts[e.host] ??= []).push(entry);
    if (digests?.decision === 'change' && !digests.readOnly) this.#changed.add(e.host);
  }

  /** Tasks that touch a Secret with no passphrase to key their digests: decided again at apply. */
  decidedAgain(): { host: string; task: string }[] {
    return Object.entries(this.#hosts).flatMap(([host, tasks]) => tasks.filter((t) => t.decidedAgain).map((t) => ({ host, task: t.task })));
  }

  plan(header: { playbook: string; commandNonce: string; options: PlanOptions; key: KeyParams | null; inputs: PlanInputs }): PlanFile {
    return { format: PLAN_FORMAT, version: PLAN_VERSION, id: this.id, createdAt: new Date().toISOString(), ...header, hosts: this.#hosts, events: this.#events };
  }
}
