// --install-schedule and --remove-schedule of backup.ts and daily-check.ts:
// the playbook that is running is bundled with the inventory it was given
// (lib/scheduled/release.ts) and installed on the backup's scheduler host
// (backup_scheduler of the first backup host; that host itself by default),
// with the backup's webhook as the jobs' notifier (roles/scheduled).
import { homedir } from 'node:os';
import path from 'node:path';
import { InputError, Secret, type Play } from 'rigger-ops';
import type { CliOptions } from 'rigger-ops/lib/cli/args';
import type { PlaybookContext } from 'rigger-ops/lib/cli/main';
import { sshLogin } from 'rigger-ops/lib/cli/connection';
import { backupVars } from 'rigger-ops/lib/backup/config';
import { backupHosts } from 'rigger-ops/lib/backup/hosts';
import { defaultInventories, vaultPassphraseFor } from 'rigger-ops/lib/inventory/load';
import { buildRelease, programOf, type Release, type ScheduledJob } from 'rigger-ops/lib/scheduled/release';
import { cronToOnCalendar, nextRuns, wallClock } from 'rigger-ops/lib/backup/schedule';
import type { OutcomeRow } from 'rigger-ops/lib/cli/main';
import { scheduledJobsPlays } from '../roles/scheduled/index.ts';
import type { NextRuns } from '../roles/scheduled/ops.ts';

export interface Scheduler {
  /** The host whose timers run the jobs. */
  host: string;
  /** The first host with backup_items: its variables hold the schedules and the webhook. */
  source: string;
}

export function schedulerOf(ctx: PlaybookContext): Scheduler {
  const source = backupHosts(ctx)[0]!;
  const host = String(ctx.hostVars(source).backup_scheduler ?? source);
  if (!ctx.inventory.hostNames().includes(host)) throw new InputError('inventory', `backup_scheduler ${JSON.stringify(host)} is not a host of the inventory`);
  return { host, source };
}

/** The controller's vault passphrase, or none when no source is configured (an inventory without !vault values needs none). */
function passphrase(opts: CliOptions, inventories: string[]): Secret | undefined {
  try {
    return new Secret(vaultPassphraseFor(inventories, opts.vaultPasswordFile, { anyMode: opts.vaultPasswordFileAnyMode })());
  } catch (err) {
    if (opts.vaultPasswordFile !== undefined) throw err;
    return undefined;
  }
}

export async function schedulePlays(opts: CliOptions, ctx: PlaybookContext, jobs: ScheduledJob[], state: 'present' | 'absent', name: string): Promise<Play[]> {
  const { host, source } = schedulerOf(ctx);
  const v = backupVars.parse(ctx.hostVars(source));
  const playbook = path.relative(process.cwd(), process.argv[1]!);
  if (state === 'absent') {
    // Removing needs the jobs' names and the release directory, not a bundle (nor the vault passphrase).
    const release: Release = { program: programOf(playbook), version: '', files: new Map(), jobs };
    return scheduledJobsPlays({ release, scheduler: host, state, root: v.backup_rigger_dir, name });
  }
  const inventories = defaultInventories(opts.inventories);
  const vault = passphrase(opts, inventories);
  const hosts = ctx.inventory.hostNames().map((h) => {
    const vars = ctx.hostVars(h);
    return {
      address: String(vars.ansible_host ?? h),
      port: sshLogin(vars).port,
      knownHostsFile: path.resolve(String(vars.rigger_known_hosts_file ?? path.join(homedir(), '.ssh', 'known_hosts'))),
    };
  });
  const release = await buildRelease({ root: process.cwd(), playbook, inventories, jobs, vault: vault !== undefined, hosts });
  return scheduledJobsPlays({ release, scheduler: host, state, root: v.backup_rigger_dir, name, ...(vault ? { vaultPassphrase: vault } : {}), ...(v.backup_webhook ? { webhook: v.backup_webhook } : {}) });
}

/** Each job's schedule, its next runs by croner and by the host's own timer (they must agree). */
export function scheduleReport(rows: OutcomeRow[], jobs: ScheduledJob[], removed?: string): string {
  const row = rows.find((r) => r.task.name === 'next runs' && r.outcome.result !== undefined);
  if (!row) return removed ?? 'no schedule read: see the errors above';
  const next = row.outcome.result as NextRuns;
  const lines = [`${row.host} (${next.systemd ? 'systemd timers' : 'cron.d'}, ${next.timezone}):`];
  for (const { name, schedule } of jobs) {
    const runs = nextRuns(schedule, next.timezone, 3).map((d) => wallClock(d, next.timezone));
    lines.push(`  ${name}: ${schedule}${next.systemd ? ` (OnCalendar=${cronToOnCalendar(schedule)})` : ''}`);
    lines.push(`    next runs: ${runs.join(', ')}`);
    lines.push(`    the host says: ${next.next[name] || 'nothing scheduled'}`);
  }
  return lines.join('\n');
}
