// The program a scheduled job's systemd service (or cron.d line) runs on the
// scheduler host: `node run-job.mjs JOB.json`, from the job's installed
// release directory (lib/scheduled/release.ts). It runs the bundled playbook
// with --json and, whatever happens (a failed task, an inventory that does
// not load, a crash), writes plain lines to its stdout (the journal), one
// summary line per run to the job's log file, and POSTs the outcome to the
// webhook kept in a root-only file: on failure, or on every run for a job
// whose result is its report (the daily check). Exits with the playbook's code.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunEvent } from '../core/events.ts';
import { PlainRenderer } from '../ui/plain.ts';
import { makeChalk } from '../ui/style.ts';
import { jobOutcome, type JobSpec, type JobEvent } from './outcome.ts';

const sendTimeoutMs = 15_000;

/** POSTs the JSON body; the URL is read from a 0600 file and never printed. */
function post(url: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? https : http).request(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length }, timeout: sendTimeoutMs }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`the webhook answered ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${sendTimeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(data);
  });
}

async function main(): Promise<number> {
  const specFile = process.argv[2];
  if (!specFile) {
    process.stderr.write('usage: node run-job.mjs JOB.json\n');
    return 64;
  }
  const job = JSON.parse(readFileSync(specFile, 'utf8')) as JobSpec;
  const started = new Date();
  const events: JobEvent[] = [];
  const stderrTail: string[] = [];
  const renderer = new PlainRenderer(makeChalk(false));
  const child = spawn(process.execPath, ['--enable-source-maps', job.bundle, '--json', ...job.args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  const code = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      stderrTail.push(`cannot start ${job.bundle}: ${err.message}`);
      resolve(127);
    });
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  await linesDone;
  await renderer.flush();

  const outcome = jobOutcome(job, { code, events, stderrTail, started, finished: new Date(), host: hostname() });
  process.stdout.write(`${outcome.line}\n`);
  mkdirSync(path.dirname(job.log), { recursive: true });
  appendFileSync(job.log, `${[outcome.line, ...outcome.details.map((d) => `    ${d}`)].join('\n')}\n`);
  if (outcome.notify) {
    if (!existsSync(job.webhookFile)) {
      appendFileSync(job.log, `${new Date().toISOString()} ${job.name}: no webhook to notify (no backup_webhook in the inventory)\n`);
    } else {
      try {
        await post(readFileSync(job.webhookFile, 'utf8').trim(), outcome.payload);
      } catch (err) {
        const line = `${new Date().toISOString()} ${job.name}: the webhook was not notified: ${(err as Error).message}`;
        process.stderr.write(`${line}\n`);
        appendFileSync(job.log, `${line}\n`);
        return code === 0 ? 75 : code;
      }
    }
  }
  return code;
}

process.exitCode = await main();
