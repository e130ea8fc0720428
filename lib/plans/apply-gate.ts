import type { PlanRefusal, RunEvent } from '../model/events.ts';
import type { Diff } from '../shell/diff.ts';
import type { DecisionMade, PlanHook, PlanVerdict } from '../runner/plan-hook.ts';
import { formatDiff } from '../ui/diff-format.ts';
import { makeChalk } from '../ui/style.ts';
import type { PlanFile, PlannedTask } from './format.ts';
import type { Digester } from './keyed-digest.ts';
import { TaskPositions } from './positions.ts';
import { decisionDigests } from './task-digests.ts';

const plainText = makeChalk(false);

/**
 * --apply: judges every decision against the saved plan before anything
 * changes. A change runs only where the plan has that very change, decided
 * from a probe output with the same digest; anything else is refused, the
 * host stops there (every later task of it is skipped), and the refusal
 * names the task with the current and the planned diff. A planned change
 * the host no longer needs (the op decides ok) is already in place: that is
 * how applying the same plan twice knows it was applied (the hosts' own
 * state, judged by the same ops, is the record; no file of applied plans).
 */
/**
 * How a gate judges. The check pass (check mode, before any change) reads
 * every task's state as the plan run did, before any planned change of its
 * host: it judges every planned change by its probe digest, even a task the
 * plan marked afterChange, and remembers which held (`verified`). The real
 * run then lets an afterChange task through only when the check pass found
 * its state as planned: a hand edit the change digest cannot show (a
 * Secret's file, an ops.each summary, an op with no diff) is refused.
 */
export interface GateMode {
  /** The check pass: no afterChange leniency; hosts that fail or are unreachable are noted. */
  checkPass?: boolean;
  /** The real run: what the check pass verified. */
  verified?: ReadonlySet<string>;
  /** --all-or-nothing: the first refusal stops every host. */
  allOrNothing?: boolean;
}

export class ApplyGate implements PlanHook {
  readonly #positions = new TaskPositions();
  readonly #byHost = new Map<string, Map<string, PlannedTask>>();
  readonly #stopped = new Map<string, string>();
  #everyHostStopped: string | undefined;
  /** The key of each host's task being decided: stateMoved comes for it. */
  readonly #lastKey = new Map<string, string>();
  readonly refusals: PlanRefusal[] = [];
  /** `host\0key` of the planned changes whose state the check pass found as planned. */
  readonly verified = new Set<string>();
  /** The check pass: hosts that failed or were unreachable there (they do not hold their plan). */
  readonly troubles: PlanRefusal[] = [];
  /** Changes let through to run: planned ones whose state holds, and those decided again. */
  applied = 0;
  /** Planned changes the hosts no longer need. */
  alreadyInPlace = 0;
  readonly decidedAgain: { host: string; task: string }[] = [];

  constructor(
    private readonly plan: PlanFile,
    private readonly digester: Digester,
    private readonly mode: GateMode = {},
  ) {
    for (const [host, tasks] of Object.entries(plan.hosts)) this.#byHost.set(host, new Map(tasks.map((t) => [t.key, t])));
  }

  handle(e: RunEvent): void {
    if (this.mode.checkPass && e.type === 'task-host' && (e.status === 'unreachable' || (e.status === 'failed' && !this.refusals.some((r) => r.host === e.host && r.task === e.task)))) {
      this.troubles.push({ host: e.host, task: e.task, reason: `${e.status} when the plan was checked${e.msg ? `: ${e.msg.split('\n')[0]}` : ''}` });
    }
    this.#positions.follow(e);
  }

  decided(made: DecisionMade): PlanVerdict | undefined {
    const { host, decision } = made;
    // A refusal fails the task, which stops the host; this holds where it would not (ignoreErrors, a rescue).
    if (this.#everyHostStopped !== undefined) return { status: 'skipped', msg: `not applied: --all-or-nothing, and ${this.#everyHostStopped}` };
    const stoppedAt = this.#stopped.get(host);
    if (stoppedAt !== undefined) return { status: 'skipped', msg: `not applied: ${host} stopped at the refused task "${stoppedAt}"` };
    if (made.op.readOnly) return undefined;
    const key = this.#positions.key(host, made.task.id);
    this.#lastKey.set(host, key);
    const planned = this.#byHost.get(host)?.get(key);
    if (planned?.decidedAgain) {
      this.decidedAgain.push({ host, task: made.task.name });
      // Not judged, but a change all the same: the plan was not "already applied".
      if (decision.kind === 'change') this.applied++;
      return undefined;
    }
    if (decision.kind !== 'change') {
      // A planned change the host no longer needs: in place already. The task
      // reports its own ok (and keeps its result, which later tasks may read).
      if (planned?.decision === 'change') this.alreadyInPlace++;
      return undefined;
    }
    const now = decisionDigests(made, this.digester);
    if (!planned || planned.decision !== 'change') {
      const was = planned ? `the plan found it ${planned.status}${planned.msg ? ` (${planned.msg})` : ''}` : 'the plan did not reach this task on this host';
      return this.#refuse(made, `a change outside the plan: ${was}; it would now ${decision.msg}`, decision.diff, undefined);
    }
    const sameChange = now.change === planned.change;
    const sameState = now.probe === planned.probe;
    if (this.mode.checkPass && sameChange && sameState) this.verified.add(`${host}\0${key}`);
    // The plan read this task's state before an earlier planned change of the
    // same host was made (a file in the directory the task before creates);
    // now it is read after, and may differ for that reason alone. It runs
    // when the check pass, reading before any change as the plan did, found
    // the state as planned, and the change is the one reviewed.
    const verifiedBefore = !this.mode.checkPass && planned.afterChange === true && this.mode.verified?.has(`${host}\0${key}`) === true;
    if (sameChange && (sameState || verifiedBefore)) {
      this.applied++;
      return undefined;
    }
    const why = sameChange ? 'its state changed since the plan' : 'its state changed since the plan, and so did the change it needs';
    return this.#refuse(made, why, decision.diff, this.#plannedDiff(planned), planned.msg);
  }

  /** The guard on the host found the state moved after the read the change was let through on: nothing ran. */
  stateMoved(made: DecisionMade): PlanVerdict {
    this.applied--;
    const planned = this.#byHost.get(made.host)?.get(this.#lastKey.get(made.host) ?? '');
    return this.#refuse(made, 'its state changed between the read it was judged by and the change (the guard on the host read it again)', undefined, planned ? this.#plannedDiff(planned) : undefined, planned?.msg);
  }

  #plannedDiff(planned: PlannedTask): Diff | undefined {
    const e = this.plan.events[planned.event];
    return e?.type === 'task-host' ? e.diff : undefined;
  }

  #refuse(made: DecisionMade, why: string, current: Diff | undefined, plannedDiff: Diff | undefined, plannedMsg?: string): PlanVerdict {
    const lines = [`refused (not applied): ${why}`];
    if (made.decision.kind === 'change') lines.push(`now it would ${made.decision.msg}${current ? ':' : ''}`);
    if (current) lines.push(...formatDiff(current, plainText).map((l) => `  ${l}`));
    if (plannedMsg !== undefined) lines.push(`the plan would ${plannedMsg}${plannedDiff ? ':' : ''}`);
    if (plannedDiff) lines.push(...formatDiff(plannedDiff, plainText).map((l) => `  ${l}`));
    const reason = lines.join('\n');
    this.#stopped.set(made.host, made.task.name);
    this.refusals.push({ host: made.host, task: made.task.name, reason });
    if (this.mode.allOrNothing) this.#everyHostStopped = `${made.host} was refused at "${made.task.name}"`;
    // Both diffs are in the message, shown with or without --diff.
    return { status: 'failed', msg: reason };
  }
}
