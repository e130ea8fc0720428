import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LAB_INVENTORY } from '../../scripts/lab/config.ts';

/**
 * The lab's end-to-end suites share one lab: the first brings it up (a
 * no-op when it is running), and a suite that needs fresh nodes resets
 * them (seconds) instead of rebuilding anything.
 */
export function ensureLab(): string {
  const r = spawnSync('node_modules/.bin/tsx', ['scripts/lab.ts', 'up'], { encoding: 'utf8', timeout: 15 * 60_000, env: { ...process.env, CI: 'true' } });
  if (r.status !== 0 || !existsSync(LAB_INVENTORY)) throw new Error(`lab up failed:\n${r.stdout}\n${r.stderr}`);
  return LAB_INVENTORY;
}

export function resetLab(all = false): void {
  const r = spawnSync('node_modules/.bin/tsx', ['scripts/lab.ts', 'reset', ...(all ? ['--all'] : [])], { encoding: 'utf8', timeout: 5 * 60_000, env: { ...process.env, CI: 'true' } });
  if (r.status !== 0) throw new Error(`lab reset failed:\n${r.stdout}\n${r.stderr}`);
}

export function lab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node_modules/.bin/tsx', ['scripts/lab.ts', ...args], { encoding: 'utf8', timeout: 15 * 60_000, env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
