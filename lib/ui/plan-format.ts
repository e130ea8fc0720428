import type { ChalkInstance } from 'chalk';
import type { RunEvent } from '../model/events.ts';

export type PlanEvent = Extract<RunEvent, { type: 'plan' }>;

/** A `plan` event as lines: what happened to the plan, its digests, each refusal with its host and task. */
export function formatPlan(e: PlanEvent, c: ChalkInstance): string[] {
  const color = e.action === 'refused' || e.refusals.length > 0 ? c.red : c.cyan;
  return [
    color(`PLAN ${e.action} (${e.file}, id ${e.id}): ${e.message}`),
    ...Object.entries(e.digests).map(([what, digest]) => c.dim(`  ${what}: ${digest}`)),
    ...e.refusals.flatMap((r) => {
      const [first, ...rest] = r.reason.split('\n');
      return [c.red(`  refused [${r.host}] ${r.task}: ${first}`), ...rest.map((l) => `    ${l}`)];
    }),
  ];
}
