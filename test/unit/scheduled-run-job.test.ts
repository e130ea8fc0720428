import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobSpec } from '../../lib/scheduled/outcome.ts';
import { localWebhookReceiver } from '../helpers/webhook.ts';
import { scratchDir } from '../helpers/run.ts';

// The scheduled runner (lib/scheduled/run-job.ts, run by node as the unit
// runs run-job.mjs) in real processes: a real HTTP receiver for the
// webhook, a real read-only file system for the log. The playbook it runs
// is a STAND-IN: a small script that prints the --json events a playbook
// prints and exits with its code, or hangs. The runner is the subject.

const RUN_JOB = path.resolve('lib/scheduled/run-job.ts');
// tsx's loader by its own URL: the runner starts in the job's directory, where `tsx` would not resolve.
const TSX_LOADER = import.meta.resolve('tsx');
const mounted: string[] = [];
after(() => {
  for (const dir of mounted.reverse()) spawnSync('umount', [dir]);
});

const PLAYBOOKS = {
  failing: `console.log(JSON.stringify({ type: 'task-host', task: 'backup set', host: 'data', status: 'failed', msg: 'postgres-pg-vibedb: pg_dump failed' }));
process.exitCode = 2;`,
  good: `console.log(JSON.stringify({ type: 'report', text: 'data: set 20261127_020000, 3 items verified' }));`,
  // Stuck (a lock never released, a host that stopped answering): never exits by itself.
  // Where the runner told it to keep its run records (RIGGER_RUNS_DIR), and a record written there.
  recording: `const fs = await import('node:fs');
const dir = process.env.RIGGER_RUNS_DIR;
if (dir) fs.writeFileSync(dir + '/run.json', '{}');
console.log(JSON.stringify({ type: 'report', text: 'runs in ' + dir }));`,
  hanging: `console.log(JSON.stringify({ type: 'task-host', task: 'backup set', host: 'data', status: 'started' }));
setInterval(() => {}, 1000);`,
} as const;

interface Job {
  dir: string;
  log: string;
  spec: JobSpec;
}

function job(playbook: keyof typeof PLAYBOOKS, over: Partial<JobSpec> & { webhook?: string } = {}): Job {
  const dir = scratchDir();
  writeFileSync(path.join(dir, 'playbook.mjs'), PLAYBOOKS[playbook]);
  const webhookFile = path.join(dir, 'webhook');
  if (over.webhook) writeFileSync(webhookFile, `${over.webhook}\n`, { mode: 0o600 });
  const log = over.log ?? path.join(dir, 'log', 'rigger-backup.log');
  const spec = { name: 'rigger-backup', what: 'backup set', bundle: 'playbook.mjs', args: [], notify: 'failure', log, webhookFile, deadlineSeconds: 7200, ...over } as JobSpec;
  delete (spec as { webhook?: string }).webhook;
  writeFileSync(path.join(dir, 'rigger-backup.json'), JSON.stringify(spec));
  return { dir, log, spec };
}

/** Runs the runner as the unit does, from the release directory. */
function runJob(j: Job): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, RUN_JOB, 'rigger-backup.json'], { cwd: j.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A directory on a read-only file system: the log's disk went read-only. */
function readOnlyDir(): string {
  const dir = path.join(scratchDir(), 'ro');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

test('item 3: a failed run whose log cannot be written (read-only file system) is still sent to the webhook', async () => {
  const hook = await localWebhookReceiver();
  try {
    const j = job('failing', { webhook: hook.url, log: path.join(readOnlyDir(), 'rigger-backup.log') });
    const r = await runJob(j);
    assert.ok(hook.bodies.length >= 1, `the failure is posted: ${r.stderr}`);
    assert.equal(hook.bodies[0]!.status, 'failed');
    assert.match(String(hook.bodies[0]!.reason), /data backup set: postgres-pg-vibedb: pg_dump failed/);
    assert.equal(r.code, 2, "the unit fails with the playbook's code");
    assert.match(r.stderr, /could not write the log .*rigger-backup\.log: .*(EROFS|read-only)/i, 'the journal says the log failed');
    assert.equal(hook.bodies.length, 2, 'and the webhook hears of the log too');
    assert.match(String(hook.bodies[1]!.reason), /could not write the log .*rigger-backup\.log/);
  } finally {
    await hook.close();
  }
});

test('item 3: a good run whose log cannot be written is told to the webhook, and the unit fails', async () => {
  const hook = await localWebhookReceiver();
  try {
    const j = job('good', { webhook: hook.url, log: path.join(readOnlyDir(), 'rigger-backup.log') });
    const r = await runJob(j);
    assert.equal(hook.bodies.length, 1, r.stderr);
    assert.equal(hook.bodies[0]!.status, 'failed');
    assert.match(String(hook.bodies[0]!.text), /could not write the log/);
    assert.notEqual(r.code, 0);
  } finally {
    await hook.close();
  }
});

test('item 3: the webhook is notified before the log is written', async () => {
  let logAtPost: string | undefined;
  let j: Job | undefined;
  const hook = await localWebhookReceiver({ onPost: () => (logAtPost = existsSync(j!.log) ? readFileSync(j!.log, 'utf8') : '') });
  try {
    j = job('failing', { webhook: hook.url });
    const r = await runJob(j);
    assert.equal(r.code, 2);
    assert.equal(hook.bodies.length, 1);
    assert.equal(logAtPost, '', 'nothing of this run in the log when the POST arrived');
    assert.match(readFileSync(j.log, 'utf8'), /rigger-backup FAILED \(exit 2\) in [\d.]+ s: data backup set: postgres-pg-vibedb: pg_dump failed/);
  } finally {
    await hook.close();
  }
});

test("item 3: a webhook that answers 500 is written to the log and the journal; the unit keeps the playbook's code, or 75 after a good run", async () => {
  const hook = await localWebhookReceiver({ status: 500 });
  try {
    const failed = job('failing', { webhook: hook.url });
    const r = await runJob(failed);
    assert.equal(hook.bodies.length, 1);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the webhook was not notified: the webhook answered 500/);
    const log = readFileSync(failed.log, 'utf8');
    assert.match(log, /FAILED \(exit 2\)/);
    assert.match(log, /rigger-backup: the webhook was not notified: the webhook answered 500/);

    const daily = job('good', { webhook: hook.url, notify: 'always' });
    const d = await runJob(daily);
    assert.equal(hook.bodies.length, 2, 'a job that reports every run posts a good one too');
    assert.equal(d.code, 75, 'the run was good, but nobody heard of it');
    assert.match(readFileSync(daily.log, 'utf8'), / ok in [\d.]+ s: data: set 20261127_020000[^]*the webhook was not notified: the webhook answered 500/);
  } finally {
    await hook.close();
  }
});

// The guard below only keeps this test from hanging the suite when the runner has no deadline; nothing asserts a duration.
test('item 3: a run that outlives its deadline is stopped and reported as a failure', { timeout: 120_000 }, async () => {
  const hook = await localWebhookReceiver();
  try {
    const j = job('hanging', { webhook: hook.url, deadlineSeconds: 2 });
    const r = await runJob(j);
    assert.equal(r.code, 124, r.stderr);
    assert.equal(hook.bodies.length, 1);
    assert.equal(hook.bodies[0]!.status, 'failed');
    assert.match(String(hook.bodies[0]!.reason), /timed out after 2 s: the run was stopped/);
    assert.match(readFileSync(j.log, 'utf8'), /rigger-backup FAILED \(exit 124\) in [\d.]+ s: timed out after 2 s/);
  } finally {
    await hook.close();
  }
});

test('item 3: a playbook that ignores SIGTERM at its deadline is killed after the grace, with what it started', { timeout: 120_000 }, async () => {
  const hook = await localWebhookReceiver();
  try {
    const j = job('hanging', { webhook: hook.url, deadlineSeconds: 1 });
    // This stand-in ignores TERM and leaves a child of its own.
    writeFileSync(
      path.join(j.dir, 'playbook.mjs'),
      `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
process.on('SIGTERM', () => {});
writeFileSync('grandchild.pid', String(spawn('sleep', ['1000'], { stdio: 'ignore' }).pid));
setInterval(() => {}, 1000);`,
    );
    const r = await runJob(j);
    assert.equal(r.code, 124, r.stderr);
    assert.match(String(hook.bodies[0]!.reason), /timed out after 1 s/);
    const pid = Number(readFileSync(path.join(j.dir, 'grandchild.pid'), 'utf8'));
    // Killed: gone, or a zombie its new parent has not reaped yet.
    const state = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0] : 'gone';
    assert.ok(state === 'gone' || state === 'Z', `the playbook's own child is killed too (state ${state})`);
  } finally {
    await hook.close();
  }
});

test('item 3: ExecStopPost (--after-stop) reports a unit systemd stopped at TimeoutStartSec, and nothing else', async () => {
  const hook = await localWebhookReceiver();
  try {
    const j = job('good', { webhook: hook.url });
    const afterStop = (result: string) =>
      spawnSync(process.execPath, ['--import', TSX_LOADER, RUN_JOB, '--after-stop', 'rigger-backup.json'], { cwd: j.dir, encoding: 'utf8', env: { ...process.env, SERVICE_RESULT: result } });
    // spawnSync blocks this process, and with it the receiver: run the timeout case asynchronously.
    assert.equal(afterStop('success').status, 0);
    assert.equal(afterStop('exit-code').status, 0);
    assert.equal(hook.bodies.length, 0, 'a run the runner finished was reported by the runner');
    const timedOut = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, ['--import', TSX_LOADER, RUN_JOB, '--after-stop', 'rigger-backup.json'], { cwd: j.dir, stdio: 'ignore', env: { ...process.env, SERVICE_RESULT: 'timeout' } }).on('close', resolve),
    );
    assert.equal(timedOut, 124);
    assert.equal(hook.bodies.length, 1);
    assert.equal(hook.bodies[0]!.status, 'failed');
    assert.match(String(hook.bodies[0]!.reason), /systemd stopped the unit at its TimeoutStartSec/);
    assert.match(readFileSync(j.log, 'utf8'), /rigger-backup FAILED \(exit 124\)/);
  } finally {
    await hook.close();
  }
});

test("a job's run records go to its runs directory, created readable by the runner only, not into the release", async () => {
  const runsDir = path.join(scratchDir(), 'var-lib-rigger', 'rigger-backup', 'runs');
  const j = job('recording', { runsDir });
  const r = await runJob(j);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`runs in ${runsDir}`));
  assert.equal(statSync(runsDir).mode & 0o777, 0o700);
  assert.ok(existsSync(path.join(runsDir, 'run.json')));
  assert.equal(existsSync(path.join(j.dir, '.rigger')), false);
});
