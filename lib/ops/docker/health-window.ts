import { z } from '../../shell/zod.ts';

/**
 * A service's health window: how long it may take to become healthy before
 * its own healthcheck gives up on it, start_period + retries x interval
 * (SGLang's in stacks/ai.yml: 60 s + 3 x 30 s = 150 s). Swarm counts a task
 * with a healthcheck as running only once it is healthy, so every wait on a
 * service (the stack convergence, the deploy health gate, the health role)
 * lasts at least its window; a service without a healthcheck keeps the
 * fixed waits. The inventory's `health_windows` overrides the derived value.
 */

/** Per service (STACK_SERVICE), seconds: the inventory's override of the window its healthcheck gives. */
export const healthWindowsSchema = z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a service name: STACK_SERVICE'), z.number().int().min(1).max(86_400)).default({});

export type HealthWindows = z.output<typeof healthWindowsSchema>;

/** Docker's defaults when a healthcheck leaves them out (Dockerfile reference, HEALTHCHECK). */
const DEFAULT_INTERVAL_S = 30;
const DEFAULT_RETRIES = 3;

const UNIT_S: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Compose duration ("1m30s", "60s") in seconds. */
export function durationSeconds(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_S[m[2]!]!;
  return total;
}

const disabled = (test: string | string[] | undefined) => (Array.isArray(test) ? test[0] === 'NONE' : test === 'NONE');

/** The window of a compose file's healthcheck; undefined when there is none or it is disabled. */
export function composeHealthWindow(hc: { test?: string | string[]; interval?: string; retries?: number; start_period?: string; disable?: boolean } | undefined): number | undefined {
  if (!hc || hc.disable || disabled(hc.test)) return undefined;
  const interval = hc.interval ? durationSeconds(hc.interval) : DEFAULT_INTERVAL_S;
  return Math.ceil((hc.start_period ? durationSeconds(hc.start_period) : 0) + (hc.retries ?? DEFAULT_RETRIES) * interval);
}

/** The window of a live service's healthcheck (`.Spec.TaskTemplate.ContainerSpec.Healthcheck`, durations in nanoseconds). */
export function specHealthWindow(hc: { Test?: string[]; Interval?: number; Retries?: number; StartPeriod?: number } | null | undefined): number | undefined {
  if (!hc || !hc.Test?.length || disabled(hc.Test)) return undefined;
  const interval = hc.Interval ? hc.Interval / 1e9 : DEFAULT_INTERVAL_S;
  return Math.ceil((hc.StartPeriod ?? 0) / 1e9 + (hc.Retries || DEFAULT_RETRIES) * interval);
}

/** A service's window: the inventory's override, else its healthcheck's, else none. */
export const windowOf = (service: string, derived: number | undefined, overrides: HealthWindows): number | undefined => overrides[service] ?? derived;

/**
 * Whether a wait on unhealthy services goes on: while fewer than retries + 1
 * attempts were made (the fixed wait), or while one of them is still inside
 * its window (measured from the start of the wait).
 */
export function stillWaiting(unhealthy: { service: string; window?: number }[], attempts: number, retries: number, elapsedSeconds: number): boolean {
  if (unhealthy.length === 0) return false;
  return attempts <= retries || unhealthy.some((u) => u.window !== undefined && elapsedSeconds < u.window);
}

/** How a failed wait names the windows it used ('' when none applied: the fixed wait alone). */
export function windowNote(unhealthy: { service: string; window?: number }[]): string {
  const w = unhealthy.filter((u) => u.window !== undefined);
  return w.length ? ` (waited out the health window: ${w.map((u) => `${u.service} ${u.window} s`).join(', ')})` : '';
}
