// For tests that interrupt a controller while it writes on a test sshd.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { descendants, type TestSshd } from './sshd.ts';

/** A fixture playbook in one node process (no tsx wrapper process), so a signal reaches the controller itself. */
export function controller(fixture: string, inventory: string, env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', `test/fixtures/playbooks/${fixture}`, '-i', inventory], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * The host's side ends on its own once the channel is gone (the watchdog's
 * TERM, the traps); wait for every session process of this sshd to end,
 * and for any write (its argv names the target's directory), which runs in
 * its own session and outlives its parent when that exits first.
 */
export async function settled(sshd: TestSshd, targetDir: string): Promise<void> {
  const pid = Number(readFileSync(path.join(sshd.dir, 'sshd.pid'), 'utf8'));
  const writing = () => execFileSync('ps', ['-eo', 'args']).toString().includes(targetDir);
  for (let i = 0; i < 1000 && (descendants(pid).length > 0 || writing()); i++) await sleep(20);
  assert.deepEqual(descendants(pid), [], 'the host side of the interrupted run ended');
  assert.ok(!writing(), 'no write script is left running');
}

/** Whether a process of this machine is still there (signal 0 checks without sending). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
