import { z } from '../shell/zod.ts';

/**
 * How long a scheduled job may run: the unit's TimeoutStartSec. Written in
 * the inventory as seconds or with a unit (`90min`, `2h`); 2 h unless told.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, min: 60, h: 3600 };

/** Under this, a job's deadline would leave the runner no time to stop the playbook and report. */
export const MIN_TIMEOUT_SECONDS = 300;
export const MAX_TIMEOUT_SECONDS = 7 * 86400;

/**
 * The runner stops the playbook this long before systemd's TimeoutStartSec,
 * so it is the runner that reports the timeout: up to 10 s for the playbook
 * to stop after SIGTERM, then the webhook (15 s at most per POST) and the log.
 */
export const REPORT_MARGIN_SECONDS = 60;

export const jobTimeout = z
  .union([z.number().int(), z.string().regex(/^\d+\s*(s|min|h)$/, 'seconds, or a number with s, min or h: 90min, 2h')])
  .default('2h')
  .transform((v) => (typeof v === 'number' ? v : Number(/^\d+/.exec(v)![0]) * UNIT_SECONDS[/(s|min|h)$/.exec(v)![1]!]!))
  .refine((s) => s >= MIN_TIMEOUT_SECONDS, `at least ${MIN_TIMEOUT_SECONDS / 60} min (the runner needs ${REPORT_MARGIN_SECONDS} s of it to stop the run and report)`)
  // Node's timers hold at most 24.8 days; a scheduled run longer than a week is a hung one.
  .refine((s) => s <= MAX_TIMEOUT_SECONDS, `at most ${MAX_TIMEOUT_SECONDS / 86400} days`);

/** The runner's own deadline for a job that systemd stops after timeoutSeconds. */
export const runnerDeadline = (timeoutSeconds: number): number => timeoutSeconds - REPORT_MARGIN_SECONDS;
