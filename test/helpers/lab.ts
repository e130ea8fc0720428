import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LAB_INVENTORY } from '../../scripts/lab/config.ts';
import { runCli } from './cli.ts';

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

/**
 * A lab that site.ts has converged, without paying for a converge when the
 * suite before left one: a `site.ts --check` that changes nothing and fails
 * nothing on any host is reused as it is; anything else (fresh nodes, drift,
 * a half-run suite) is reset and converged. Suites run in the order
 * scripts/test-lab.ts lists, so a converged lab is handed on; each suite
 * still passes alone.
 */
export async function convergedLab(inv: string): Promise<void> {
  const check = await runCli(['playbooks/site.ts', '-i', inv, '--check', '--json'], {}, 15 * 60_000);
  type Recap = { type: string; hosts?: Record<string, { changed: number; failed: number; unreachable: number }> };
  const recap = check.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Recap).find((e) => e.type === 'recap')?.hosts;
  const converged = check.code === 0 && recap !== undefined && Object.values(recap).every((h) => h.changed === 0 && h.failed === 0 && h.unreachable === 0);
  if (converged) return;
  resetLab();
  const site = await runCli(['playbooks/site.ts', '-i', inv], {}, 15 * 60_000);
  if (site.code !== 0) throw new Error(`site.ts did not converge the lab:\n${site.stdout}\n${site.stderr}`);
}
