import { z } from '../../shell/zod.ts';

/**
 * A service's health window: how long it may take to become healthy before
 * its own healthcheck gives up on it, and so how long every wait on it (the
 * stack convergence, the deploy and rotation gates, the health role) lasts
 * at least; a service without a healthcheck keeps the fixed waits. The
 * inventory's `health_windows` overrides the derived value.
 *
 * What Docker does (daemon/health.go, 20.10 and 25+ alike): a failed probe
 * is not counted while it starts inside start_period; the first probe that
 * starts at or after start_period counts (Docker 25+ runs one exactly when
 * the period ends; 20.10 probes every interval from the container's start,
 * so the one at start_period starts a few ms after it and counts); with no
 * start period the first probe, one interval after the start, counts. The
 * retries-th counted failure makes the container unhealthy, and Swarm
 * replaces the task. So the last probe a slow start can pass starts at
 * (start_period, or interval when there is none) + (retries - 1) x interval:
 * that is the window. SGLang's healthcheck in stacks/ai.yml (start_period
 * 90 s, interval 30 s, retries 3) gives 150 s. (start_period + retries x
 * interval, the issue's first formula, is one interval too long: a model
 * loading 125 s under start_period 60 s is killed by Docker at ~120 s.)
 *
 * A gate measures the window from the task's container start, not from the
 * start of its own wait (an image pull comes first), by waiting for Docker's
 * own verdict: healthy, or unhealthy after the window. Docker decides by
 * `verdictSeconds` after the container starts: the window, plus one interval
 * (20.10 probes on multiples of the interval, so its first counted probe may
 * come up to one interval after start_period), plus one timeout per probe
 * that may be counted and one more (a probe that hangs delays the next).
 */

/** Per service (STACK_SERVICE), seconds: the inventory's override of the window its healthcheck gives. */
export const healthWindowsSchema = z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a service name: STACK_SERVICE'), z.number().int().min(1).max(86_400)).default({});

export type HealthWindows = z.output<typeof healthWindowsSchema>;

/** Docker's defaults when a healthcheck leaves them out (Dockerfile reference, HEALTHCHECK). */
const DEFAULT_INTERVAL_S = 30;
const DEFAULT_TIMEOUT_S = 30;
const DEFAULT_RETRIES = 3;

const UNIT_S: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Compose duration ("1m30s", "60s") in seconds. */
export function durationSeconds(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_S[m[2]!]!;
  return total;
}

const disabled = (test: string | string[] | undefined) => (Array.isArray(test) ? test[0] === 'NONE' : test === 'NONE');

/** A healthcheck's settings in seconds; 0 (or absent) takes Docker's default, as Docker does. */
export interface HealthTiming {
  startPeriod?: number;
  interval?: number;
  timeout?: number;
  retries?: number;
}

/**
 * The window (the last moment a slow start can still be found healthy) and
 * the verdict bound (by when Docker has decided, healthy or unhealthy), in
 * seconds from the container's start; the module comment says why.
 */
export function healthTiming(t: HealthTiming): { window: number; verdict: number } {
  const interval = t.interval || DEFAULT_INTERVAL_S;
  const timeout = t.timeout || DEFAULT_TIMEOUT_S;
  const retries = t.retries || DEFAULT_RETRIES;
  const window = (t.startPeriod || interval) + (retries - 1) * interval;
  return { window: Math.ceil(window), verdict: Math.ceil(window + interval + (retries + 1) * timeout) };
}

/**
 * The same computation for the shell waits on a manager (converge.ts): awk
 * reading Docker's `{{json .StartPeriod}} {{json .Interval}} {{json .Timeout}}
 * {{json .Retries}} {{json .Test}}` (nanoseconds) and printing "WINDOW VERDICT",
 * nothing for no healthcheck or a disabled one. test/unit/health-window.test.ts
 * runs it against healthTiming.
 */
export const HEALTH_TIMING_AWK = `{
  if ($5 == "" || $5 == "null" || $5 == "[]" || $5 ~ /^\\["NONE"/) exit
  iv = $2 > 0 ? $2 / 1e9 : ${DEFAULT_INTERVAL_S}; to = $3 > 0 ? $3 / 1e9 : ${DEFAULT_TIMEOUT_S}; r = $4 > 0 ? $4 : ${DEFAULT_RETRIES}
  w = ($1 > 0 ? $1 / 1e9 : iv) + (r - 1) * iv; v = w + iv + (r + 1) * to
  printf "%d %d\\n", (w == int(w) ? w : int(w) + 1), (v == int(v) ? v : int(v) + 1)
}`;

/**
 * Whether a convergence wait past its deadline still waits for Docker's
 * verdict on a service, for the shell waits (converge.ts): awk reading one
 * "STATE STARTED_EPOCH" line per task of the service, with -v verdict= (the
 * service's verdict bound), deadline= and now= (epoch seconds), printing the
 * epoch until which to wait, or nothing. Only a task Docker has started and
 * not yet judged (Swarm's `starting`: a task with a healthcheck stays there
 * until healthy) counts, and only one that started before the deadline: a
 * task that keeps failing its healthcheck is replaced by a new one each
 * time, and waiting for each new one would never end. So a wait lasts at
 * most its deadline plus one verdict bound.
 */
export const VERDICT_DUE_AWK = `$1 == "starting" && $2 < deadline && $2 + verdict > now && $2 + verdict > due { due = $2 + verdict }
END { if (due) print due }`;

/** The window of a compose file's healthcheck; undefined when there is none or it is disabled. */
export function composeHealthWindow(hc: { test?: string | string[]; interval?: string; timeout?: string; retries?: number; start_period?: string; disable?: boolean } | undefined): number | undefined {
  return composeHealthTiming(hc)?.window;
}

/** Window and verdict bound of a compose file's healthcheck; undefined when there is none or it is disabled. */
export function composeHealthTiming(hc: { test?: string | string[]; interval?: string; timeout?: string; retries?: number; start_period?: string; disable?: boolean } | undefined) {
  if (!hc || hc.disable || disabled(hc.test)) return undefined;
  const s = (d: string | undefined) => (d ? durationSeconds(d) : 0);
  return healthTiming({ startPeriod: s(hc.start_period), interval: s(hc.interval), timeout: s(hc.timeout), retries: hc.retries ?? 0 });
}

/** The window of a live service's healthcheck (`.Spec.TaskTemplate.ContainerSpec.Healthcheck`, durations in nanoseconds). */
export function specHealthWindow(hc: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number } | null | undefined): number | undefined {
  if (!hc || !hc.Test?.length || disabled(hc.Test)) return undefined;
  return healthTiming({ startPeriod: (hc.StartPeriod ?? 0) / 1e9, interval: (hc.Interval ?? 0) / 1e9, timeout: (hc.Timeout ?? 0) / 1e9, retries: hc.Retries ?? 0 }).window;
}

/** A service's window: the inventory's override, else its healthcheck's, else none. */
export const windowOf = (service: string, derived: number | undefined, overrides: HealthWindows): number | undefined => overrides[service] ?? derived;

/**
 * Whether a wait on unhealthy services goes on: while fewer than retries + 1
 * attempts were made (the fixed wait), or while one of them is still inside
 * its window, measured from the start of the wait. The HTTP gates and the
 * health role wait so: they start after the convergence wait saw the task
 * run (healthy, for Docker), so their window starts later than the task's
 * and never ends before it; they only ever wait longer than needed.
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
