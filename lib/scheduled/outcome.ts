/**
 * What a scheduled run says about itself: the summary line of its log, the
 * lines under it, and the webhook's body, from the playbook's --json events
 * and exit code. Pure: lib/scheduled/run-job.ts does the I/O.
 */

/** One job of a release: written as JOB.json beside the bundle, read by run-job.mjs. */
export interface JobSpec {
  /** The unit's name: rigger-backup, rigger-daily-check. */
  name: string;
  /** For people: "backup set", "daily check". */
  what: string;
  /** The bundled playbook, relative to the release directory. */
  bundle: string;
  /** The playbook's arguments (inventory, runner variables, vault password file, the job's flags). */
  args: string[];
  /** `failure`: the webhook hears of failed runs; `always`: of every run (the report is the point). */
  notify: 'failure' | 'always';
  /** The job's log file: one summary line per run, with the report and the failures under it. */
  log: string;
  /** A root-only file holding the webhook's URL; absent when the inventory has none. */
  webhookFile: string;
  /**
   * The runner stops the playbook after this many seconds and reports the
   * run as failed: a little before the unit's TimeoutStartSec, so a hung
   * run is told, not only killed (the same under cron.d, which has no timeout).
   */
  deadlineSeconds: number;
  /**
   * Where the playbook's run records go (.rigger/runs/ otherwise, relative to
   * the release directory, which a new release replaces): created 0700,
   * given to the playbook as RIGGER_RUNS_DIR.
   */
  runsDir?: string;
}

/** The events run-job reads: the engine's, plus the playbook's report line. */
export type JobEvent =
  | { type: 'task-host'; task: string; host: string; status: string; msg?: string }
  | { type: 'error'; message: string }
  | { type: 'report'; text: string }
  | { type: string };

export interface RunFacts {
  code: number;
  events: JobEvent[];
  /** The last lines the playbook wrote to stderr (a crash before any event). */
  stderrTail: string[];
  started: Date;
  finished: Date;
  host: string;
  /** The deadline (seconds) the runner stopped the playbook at, when it did. */
  timedOut?: number;
}

export interface JobOutcome {
  ok: boolean;
  line: string;
  details: string[];
  notify: boolean;
  payload: Record<string, unknown>;
}

const firstLine = (s: string) => s.split('\n')[0] ?? '';

export function jobOutcome(job: JobSpec, r: RunFacts): JobOutcome {
  const ok = r.code === 0 && r.timedOut === undefined;
  const report = r.events.find((e): e is { type: 'report'; text: string } => e.type === 'report')?.text?.trim() ?? '';
  const stopped = r.timedOut === undefined ? [] : [`timed out after ${r.timedOut} s: the run was stopped`];
  const failures = [...stopped, ...r.events.flatMap((e) => {
    if (e.type === 'error' && 'message' in e) return [firstLine(e.message)];
    if (e.type === 'task-host' && 'status' in e && (e.status === 'failed' || e.status === 'unreachable')) return [`${e.host} ${e.task}: ${firstLine(e.msg ?? e.status)}`];
    return [];
  })];
  const seconds = ((r.finished.getTime() - r.started.getTime()) / 1000).toFixed(1);
  const headline = ok ? firstLine(report) || 'done' : failures[0] ?? r.stderrTail.at(-1) ?? `exit ${r.code}`;
  const line = `${r.finished.toISOString()} ${job.name} ${ok ? 'ok' : `FAILED (exit ${r.code})`} in ${seconds} s: ${headline}`;
  const details = [...(report ? report.split('\n') : []), ...(ok ? [] : failures.length ? failures.slice(1) : r.stderrTail)];
  const status = ok ? 'ok' : 'failed';
  return {
    ok,
    line,
    details,
    notify: !ok || job.notify === 'always',
    payload: {
      text: `rigger ${job.what} on ${r.host}: ${ok ? 'ok' : `FAILED (exit ${r.code})`}: ${headline}${job.notify === 'always' && report ? `\n${report}` : ''}`,
      job: job.name,
      host: r.host,
      status,
      exit: r.code,
      reason: ok ? undefined : headline,
      failures,
      report,
      started: r.started.toISOString(),
      finished: r.finished.toISOString(),
    },
  };
}

/** The webhook's body when the run's log line could not be written: a failure of its own, whatever the run did. */
export function logFailurePayload(job: JobSpec, o: JobOutcome, error: string): Record<string, unknown> {
  const reason = `could not write the log ${job.log}: ${error}`;
  return { ...o.payload, text: `rigger ${job.what} on ${String(o.payload.host)}: ${reason} (the run: ${o.ok ? 'ok' : 'FAILED'})`, status: 'failed', reason };
}
