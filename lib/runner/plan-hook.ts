import type { Diff } from '../shell/diff.ts';
import type { Decision, Op } from '../model/op.ts';
import type { Task } from '../model/task.ts';
import type { ExecResult } from '../transport/types.ts';

/**
 * Where saved plans meet the run loop (lib/plans/): told every decision
 * before anything changes. A plan run records them; an apply run judges
 * each against the plan and may answer with a verdict that replaces the
 * task's own outcome (a refusal), so no change outside the plan is made.
 */
export interface DecisionMade {
  /** The inventory host the task runs for (not its delegate). */
  host: string;
  task: Task<any>;
  op: Op<unknown, unknown>;
  /** The probe output the decision was made from; undefined for an op without a probe. */
  probed: ExecResult | undefined;
  decision: Decision<unknown>;
}

/** What the task reports instead of acting. */
export interface PlanVerdict {
  status: 'failed' | 'skipped';
  msg: string;
  diff?: Diff;
}

export interface PlanHook {
  decided(made: DecisionMade): PlanVerdict | undefined;
  /**
   * Given (--apply): every change let through runs behind the run-ahead
   * guard (guarded-change.ts), and this is what the task reports when the
   * host's state moved between the read it was judged by and the change.
   */
  stateMoved?(made: DecisionMade): PlanVerdict;
}
