import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { scratchDir } from './run.ts';

/** Debian's cron daemon, from the cron package (scripts/test-deps.sh installs it; its service is never started). */
export const CRON = '/usr/sbin/cron';

/**
 * Runs `command` and then Debian's real cron daemon in a private mount
 * namespace whose /etc/cron.d, /etc/crontab, crontab spool and /run are
 * empty tmpfs: what `command` writes to /etc/cron.d (rigger's cron op run
 * by the CLI, on the local connection) is all cron reads, and nothing of
 * this machine's is touched. /tmp is shared, so jobs write their results
 * there. Each job's command first creates its own file of `started`: once
 * all exist, every job has run, and when cron has no child left they have
 * all ended; then cron is stopped. Returns the command's output.
 */
export async function runUnderCron(command: string[], started: string[], env: Record<string, string> = {}): Promise<{ setup: string }> {
  const work = scratchDir();
  const setupLog = path.join(work, 'setup.log');
  const script = [
    'set -e',
    'mount -t tmpfs -o mode=0755 tmpfs /etc/cron.d',
    'mount -t tmpfs -o mode=0755 tmpfs /run',
    'mount -t tmpfs -o mode=1730 tmpfs /var/spool/cron/crontabs',
    // An empty system crontab: only the files the command writes are read.
    `: > ${work}/crontab && mount --bind ${work}/crontab /etc/crontab`,
    `"$@" > ${setupLog} 2>&1 || { cat ${setupLog} >&2; exit 3; }`,
    // exec: cron keeps this process's pid, so its jobs are this pid's children.
    `exec ${CRON} -f`,
  ].join('\n');
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'bash', '-c', script, 'under-cron', ...command], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  try {
    // cron starts jobs on the minute: up to a minute's wait, not asserted. A job cron
    // refused never starts: after three ticks of cron's clock that is reported, not waited for.
    const giveUp = Date.now() + 3 * 60_000;
    while (!started.every((f) => existsSync(f))) {
      if (exited !== undefined) throw new Error(`cron's namespace ended (${exited}) before the jobs ran:\n${stderr}`);
      if (Date.now() > giveUp) throw new Error(`cron never started: ${started.filter((f) => !existsSync(f)).join(', ')}\n${stderr}`);
      await sleep(250);
    }
    // Every job is running or done: each holds a child of cron (do_command's middle process) until it ends.
    while (spawnSync('pgrep', ['-P', String(child.pid)]).status === 0) await sleep(250);
  } finally {
    child.kill('SIGTERM');
  }
  return { setup: readFileSync(setupLog, 'utf8') };
}
