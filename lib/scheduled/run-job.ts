// The program a scheduled job's systemd service (or cron.d line) runs on the
// scheduler host: `node run-job.mjs JOB.json`, from the job's installed
// release directory (lib/scheduled/release.ts). It runs the bundled playbook
// with --json and, whatever happens (a failed task, an inventory that does
// not load, a crash, a run past its deadline), writes plain lines to its
// stdout (the journal), POSTs the outcome to the webhook kept in a root-only
// file (on failure, or on every run for a job whose result is its report,
// the daily check), and then appends one summary line per run to the job's
// log file. The webhook comes first, so a log that cannot be written (a full
// or read-only disk) never keeps a failure from being told; a log that
// cannot be written is told to the webhook, and a webhook that cannot be
// reached is written to the log and the journal. Exits with the playbook's
// code (124 when it was stopped at its deadline).
//
// `node run-job.mjs --after-stop JOB.json` is the unit's ExecStopPost: when
// systemd stopped the unit at TimeoutStartSec (SERVICE_RESULT=timeout), the
// runner itself did not finish in time, so this reports it.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunEvent } from '../model/events.ts';
import { PlainRenderer } from '../ui/plain.ts';
import { makeChalk } from '../ui/style.ts';
import { jobOutcome, logFailurePayload, type JobEvent, type JobOutcome, type JobSpec } from './outcome.ts';
import { postJson } from './webhook.ts';

/** After SIGTERM at the deadline, the playbook has this long to stop (rigger cleans up on its hosts) before SIGKILL. */
const STOP_GRACE_MS = 10_000;
/** timeout(1)'s code for a command it stopped. */
const TIMED_OUT = 124;
/** A good run that could not be told (EX_TEMPFAIL) or recorded (EX_IOERR): the unit still fails, so it shows. */
const NOT_NOTIFIED = 75;
const NOT_LOGGED = 74;

interface Ran {
  code: number;
  events: JobEvent[];
  stderrTail: string[];
  timedOut?: number;
}

/** Runs the bundled playbook, its events rendered to the journal, stopped at the job's deadline. */
async function runPlaybook(job: JobSpec): Promise<Ran> {
  const events: JobEvent[] = [];
  const stderrTail: string[] = [];
  const renderer = new PlainRenderer(makeChalk(false));
  // Its own process group, so the SIGKILL after the grace takes whatever the playbook started too.
  const env = { ...process.env };
  if (job.runsDir) {
    // The records hold the results the playbook registered: the runner's eyes only.
    mkdirSync(job.runsDir, { recursive: true, mode: 0o700 });
    chmodSync(job.runsDir, 0o700);
    env.RIGGER_RUNS_DIR = job.runsDir;
  }
  const child = spawn(process.execPath, ['--enable-source-maps', job.bundle, '--json', ...job.args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  const lines = createInterface({ input: child.stdout });
  // Every line read before the summary: the reader may close before the child's exit is seen.
  const linesDone = new Promise((r) => lines.once('close', r));
  lines.on('line', (line) => {
    let e: RunEvent | { type: 'report'; text: string };
    try {
      e = JSON.parse(line) as RunEvent | { type: 'report'; text: string };
    } catch {
      process.stdout.write(`${line}\n`);
      return;
    }
    events.push(e as JobEvent);
    if (e.type === 'report') process.stdout.write(`${e.text}\n`);
    else renderer.handle(e);
  });
  child.stderr.on('data', (b: Buffer) => {
    process.stderr.write(b);
    stderrTail.push(...b.toString('utf8').split('\n').filter(Boolean));
    stderrTail.splice(0, Math.max(0, stderrTail.length - 20));
  });
  let timedOut: number | undefined;
  let kill: NodeJS.Timeout | undefined;
  const deadline = setTimeout(() => {
    timedOut = job.deadlineSeconds;
    process.stderr.write(`${job.name}: still running after ${job.deadlineSeconds} s: stopping it\n`);
    child.kill('SIGTERM');
    kill = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }, STOP_GRACE_MS);
  }, job.deadlineSeconds * 1000);
  const code = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      stderrTail.push(`cannot start ${job.bundle}: ${err.message}`);
      resolve(127);
    });
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  clearTimeout(deadline);
  clearTimeout(kill);
  await linesDone;
  await renderer.flush();
  return timedOut === undefined ? { code, events, stderrTail } : { code: TIMED_OUT, events, stderrTail, timedOut };
}

type Told = { sent: true } | { sent: false; why: string; failed: boolean };

/** POSTs a body to the job's webhook, or says why it did not. */
async function tell(job: JobSpec, body: Record<string, unknown>): Promise<Told> {
  if (!existsSync(job.webhookFile)) return { sent: false, failed: false, why: 'no webhook to notify (no backup_webhook in the inventory)' };
  try {
    await postJson(readFileSync(job.webhookFile, 'utf8').trim(), body);
    return { sent: true };
  } catch (err) {
    return { sent: false, failed: true, why: `the webhook was not notified: ${(err as Error).message}` };
  }
}

/** Appends lines to the job's log; the error when it could not. */
function appendLog(job: JobSpec, lines: string[]): string | undefined {
  try {
    mkdirSync(path.dirname(job.log), { recursive: true });
    appendFileSync(job.log, lines.map((l) => `${l}\n`).join(''));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Tells the outcome: journal, then webhook, then log; each failure of one told by the others. Returns the exit code. */
async function report(job: JobSpec, outcome: JobOutcome, code: number): Promise<number> {
  const stamp = () => `${new Date().toISOString()} ${job.name}`;
  process.stdout.write(`${outcome.line}\n`);
  const notes: string[] = [];
  let notifyFailed = false;
  if (outcome.notify) {
    const told = await tell(job, outcome.payload);
    if (!told.sent) {
      notes.push(`${stamp()}: ${told.why}`);
      if (told.failed) {
        notifyFailed = true;
        process.stderr.write(`${notes.at(-1)}\n`);
      }
    }
  }
  const logError = appendLog(job, [outcome.line, ...outcome.details.map((d) => `    ${d}`), ...notes]);
  if (logError !== undefined) {
    process.stderr.write(`${stamp()}: could not write the log ${job.log}: ${logError}\n`);
    // A webhook that just failed would fail again; otherwise it hears of the log too.
    if (!notifyFailed) {
      const told = await tell(job, logFailurePayload(job, outcome, logError));
      if (!told.sent && told.failed) {
        notifyFailed = true;
        process.stderr.write(`${stamp()}: ${told.why}\n`);
      }
    }
  }
  if (!outcome.ok) return code;
  return notifyFailed ? NOT_NOTIFIED : logError !== undefined ? NOT_LOGGED : 0;
}

async function main(): Promise<number> {
  const afterStop = process.argv[2] === '--after-stop';
  const specFile = process.argv[afterStop ? 3 : 2];
  if (!specFile) {
    process.stderr.write('usage: node run-job.mjs [--after-stop] JOB.json\n');
    return 64;
  }
  const job = JSON.parse(readFileSync(specFile, 'utf8')) as JobSpec;
  const host = hostname();
  if (afterStop) {
    // Any other result was reported by the runner itself.
    if (process.env.SERVICE_RESULT !== 'timeout') return 0;
    const now = new Date();
    const stderrTail = ['systemd stopped the unit at its TimeoutStartSec before the runner had reported (SERVICE_RESULT=timeout)'];
    return report(job, jobOutcome(job, { code: TIMED_OUT, events: [], stderrTail, started: now, finished: now, host }), TIMED_OUT);
  }
  const started = new Date();
  const ran = await runPlaybook(job);
  const outcome = jobOutcome(job, { ...ran, started, finished: new Date(), host });
  return report(job, outcome, ran.code);
}

process.exitCode = await main();
