import type { RunEvent } from '../model/events.ts';

export type HostResult = Extract<RunEvent, { type: 'task-host' }>;

/** Above this many hosts, a task's finished hosts are one line of counts instead of a line each. */
export const COUNTS_ABOVE_HOSTS = 16;

/**
 * The lines a finished task leaves in a terminal. Skips are grouped by
 * reason, because a skip's reason is usually the same on every host it
 * covers (a group the host is not in, a variable that is off), and a line
 * each would bury the few hosts that did something.
 */
export type TaskLine =
  /** One host's own result: its status, duration, message and diff. */
  | { kind: 'host'; result: HostResult }
  /** Every host skipped for the same reason (`undefined`: no reason given). */
  | { kind: 'skipped'; reason: string | undefined; hosts: string[] }
  /** Above COUNTS_ABOVE_HOSTS: how many hosts ended each way, naming those that changed or failed. */
  | { kind: 'counts'; ok: number; changed: string[]; failed: string[]; ignored: string[]; unreachable: string[] }
  /** Above COUNTS_ABOVE_HOSTS: the hosts that failed (or were unreachable) with the same message, for the message. */
  | { kind: 'failed'; status: 'failed' | 'unreachable'; msg: string | undefined; location: string | undefined; hosts: string[] }
  /** Above COUNTS_ABOVE_HOSTS, with --diff: the hosts whose change showed the same diff, for the diff. */
  | { kind: 'diff'; diff: NonNullable<HostResult['diff']>; hosts: string[] };

/** Groups items by a key, in the order each key is first met, keeping the items' order inside a group. */
function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/**
 * A task's results (in the task's host order) as the lines to print:
 * verbose, one line per host; otherwise the hosts that ran one line each
 * (or, above COUNTS_ABOVE_HOSTS, one line of counts and one per distinct
 * failure or diff), then one line per skip reason.
 */
export function summarizeTask(results: HostResult[], verbose: boolean): TaskLine[] {
  if (verbose) return results.map((result) => ({ kind: 'host', result }));
  const ran = results.filter((r) => r.status !== 'skipped');
  const skipped = results.filter((r) => r.status === 'skipped');
  const skipLines: TaskLine[] = groupBy(skipped, (r) => r.msg ?? '').map((g) => ({ kind: 'skipped', reason: g[0]!.msg, hosts: g.map((r) => r.host) }));
  if (results.length <= COUNTS_ABOVE_HOSTS) return [...ran.map((result): TaskLine => ({ kind: 'host', result })), ...skipLines];

  const named = (pred: (r: HostResult) => boolean) => ran.filter(pred).map((r) => r.host);
  const failedHard = ran.filter((r) => (r.status === 'failed' && !r.ignored) || r.status === 'unreachable');
  const lines: TaskLine[] = [];
  if (ran.length > 0) {
    lines.push({
      kind: 'counts',
      ok: ran.filter((r) => r.status === 'ok').length,
      changed: named((r) => r.status === 'changed'),
      failed: named((r) => r.status === 'failed' && !r.ignored),
      ignored: named((r) => r.status === 'failed' && r.ignored === true),
      unreachable: named((r) => r.status === 'unreachable'),
    });
  }
  for (const g of groupBy(failedHard, (r) => JSON.stringify([r.status, r.msg ?? '', r.location ?? '']))) {
    const first = g[0]!;
    lines.push({ kind: 'failed', status: first.status as 'failed' | 'unreachable', msg: first.msg, location: first.location, hosts: g.map((r) => r.host) });
  }
  const withDiff = ran.filter((r) => r.diff !== undefined);
  for (const g of groupBy(withDiff, (r) => JSON.stringify(r.diff))) lines.push({ kind: 'diff', diff: g[0]!.diff!, hosts: g.map((r) => r.host) });
  return [...lines, ...skipLines];
}

/** The counts line's text, without colour: `40 ok, 3 changed (a, b, c), 1 failed (d)`. */
export function countsText(line: Extract<TaskLine, { kind: 'counts' }>): string {
  const part = (label: string, hosts: string[]) => (hosts.length ? [`${hosts.length} ${label} (${hosts.join(', ')})`] : []);
  return [
    ...(line.ok ? [`${line.ok} ok`] : []),
    ...part('changed', line.changed),
    ...part('failed', line.failed),
    ...part('failed (ignored)', line.ignored),
    ...part('unreachable', line.unreachable),
  ].join(', ');
}
