import assert from 'node:assert/strict';
import { HOMELAB_VAULT_PASSWORD, REHEARSAL_INVENTORY } from '../../scripts/lab/rehearsal.ts';
import { runCli, type CliResult } from './cli.ts';
import { ensureLab, lab, resetLab } from './lab.ts';

/** What every rehearsal run needs: the vault passphrase of inventory/homelab.yml's example values. */
export const REHEARSAL_ENV = { RIGGER_VAULT_PASSWORD: HOMELAB_VAULT_PASSWORD };

/** A playbook run against the rehearsal's inventory (`args` after the playbook path, e.g. ['--json']). */
export const onRehearsal = (playbook: string, args: string[] = [], timeoutMs = 15 * 60_000): Promise<CliResult> =>
  runCli([playbook, '-i', REHEARSAL_INVENTORY, ...args], REHEARSAL_ENV, timeoutMs);

type Recap = { type: string; hosts?: Record<string, { changed: number; failed: number; unreachable: number }> };

/**
 * The rehearsal of the real cluster, converged, without paying for a
 * converge when the suite before left one (test/lab/rehearsal.test.ts
 * converges it from a reset lab; the rehearsal-* suites after it reuse it):
 * a `site.ts --check` on the rehearsal inventory that changes and fails
 * nothing is reused; anything else (fresh nodes, the lab inventory's
 * cluster, drift) is reset, `lab.ts rehearse`d and converged, with the
 * commands the README gives a user. Returns the lab inventory (for onNode).
 */
export async function convergedRehearsal(): Promise<string> {
  const inv = ensureLab();
  const check = await onRehearsal('playbooks/site.ts', ['--check', '--json']);
  const recap = check.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Recap).find((e) => e.type === 'recap')?.hosts;
  if (check.code === 0 && recap !== undefined && Object.values(recap).every((h) => h.changed === 0 && h.failed === 0 && h.unreachable === 0)) return inv;
  resetLab();
  const made = lab(['rehearse']);
  assert.equal(made.code, 0, `lab.ts rehearse:\n${made.stdout}\n${made.stderr}`);
  const site = await onRehearsal('playbooks/site.ts');
  assert.equal(site.code, 0, `site.ts did not converge the rehearsal:\n${site.stdout}\n${site.stderr}`);
  return inv;
}
