// Backups that cannot lie: one verified set per run on the hosts that hold
// data (those with backup_items), retention only after a published set,
// an off-site copy of verified sets only, and the timers that run it.
//   npx tsx playbooks/backup.ts                      take a set, then retention
//   npx tsx playbooks/backup.ts --list               every set: date, items, size, status, age; missed nights
//   npx tsx playbooks/backup.ts --verify SET|latest  re-check a set's checksums and read its dumps in full
//   npx tsx playbooks/backup.ts --offsite            copy the verified sets to backup_offsite.remote
//   npx tsx playbooks/backup.ts --install-schedule   the runner and its timers (or cron.d) on backup_scheduler; --remove-schedule
import { definePlay, InputError, runPlaybook, type Play } from 'rigger-ops';
import type { OutcomeRow, PlaybookContext } from 'rigger-ops/lib/cli/main';
import type { CliOptions } from 'rigger-ops/lib/cli/args';
import { backupVars } from 'rigger-ops/lib/backup/config';
import { backupHosts } from 'rigger-ops/lib/backup/hosts';
import type { Listing } from 'rigger-ops/lib/backup/listing';
import { listReport, verifyReport } from 'rigger-ops/lib/backup/report';
import type { SetVerdict } from 'rigger-ops/lib/backup/ops/verify';
import { ops } from 'rigger-ops';
import { backupOffsite, backupSet } from '../roles/backup/index.ts';
import { backupJobs } from '../roles/backup/schedule.ts';
import { pitrArchive } from '../roles/pitr/index.ts';
import { pitrConfigIfAny } from './pitr-plays.ts';
import { schedulePlays, scheduleReport } from './schedule-plays.ts';
import * as backupOps from 'rigger-ops/lib/backup/ops/index';

const usage = `Usage: npx tsx playbooks/backup.ts [MODE] [flags]
Modes (one at a time; none takes a set):
      --list                  every set with date, items, size, verified status and age; recent runs; missed nights
      --verify SET|latest     re-check a set: manifest, sha256 of every item, a full read of each dump
      --offsite               copy the verified sets to backup_offsite.remote with rclone
      --install-schedule      install this playbook, the inventory and the timers (cron.d without systemd) on backup_scheduler
      --remove-schedule       remove them
      --scheduled             mark the run as the timer's in the run log (the timers pass it)
`;

const MODES = ['list', 'verify', 'offsite', 'install-schedule', 'remove-schedule'] as const;

let mode: (typeof MODES)[number] | 'set' = 'set';
let hostsForReport: string[] = [];
let context: PlaybookContext;

function plays(opts: CliOptions, ctx: PlaybookContext): Play[] | Promise<Play[]> {
  context = ctx;
  const chosen = MODES.filter((m) => opts.flags[m] !== undefined && opts.flags[m] !== false);
  if (chosen.length > 1) throw new InputError('command line', `one mode at a time: --${chosen.join(' and --')}`);
  mode = chosen[0] ?? 'set';
  const hosts = backupHosts(ctx);
  hostsForReport = hosts;
  const pattern = hosts.join(':');
  const vars = { backup_trigger: opts.flags.scheduled ? 'schedule' : 'manual' };
  switch (mode) {
    case 'set': {
      // With postgres_pitr: the archiver kept running and a base backup with its retention (roles/pitr), each night.
      const pitr = pitrConfigIfAny(ctx);
      return [
        definePlay({ name: 'backup', hosts: pattern, vars, roles: [backupSet] }),
        ...(pitr ? [definePlay({ name: 'postgres pitr', hosts: `${pitr.database_host}:${pitr.archive_host}`, roles: [pitrArchive] })] : []),
      ];
    }
    case 'offsite': {
      // The hosts whose sets go off site: those with a remote (the NAS, in homelab.yml).
      const offsite = hosts.filter((h) => ctx.hostVars(h).backup_offsite !== undefined);
      if (!offsite.length) throw new InputError('inventory', `--offsite needs backup_offsite (remote, max_delete) on a backup host (${hosts.join(', ')})`);
      hostsForReport = offsite;
      return [definePlay({ name: 'backup off-site', hosts: offsite.join(':'), vars, roles: [backupOffsite] })];
    }
    case 'list':
      return [definePlay({ name: 'backup sets', hosts: pattern, schema: backupVars, tasks: ({ task }) => [task({ name: 'sets', op: (h) => backupOps.sets({ root: h.vars.backup_root }) })] })];
    case 'verify': {
      const set = String(opts.flags.verify);
      return [
        definePlay({
          name: `verify ${set}`,
          hosts: pattern,
          schema: backupVars,
          tasks: ({ task }) => [task({ name: 'verify', op: (h) => backupOps.verifySet({ root: h.vars.backup_root, set }), failedWhen: (r: SetVerdict) => !r.ok })],
        }),
      ];
    }
    case 'install-schedule':
    case 'remove-schedule': {
      const install = mode === 'install-schedule';
      return schedulePlays(opts, ctx, jobsOf(ctx, hosts), install ? 'present' : 'absent', install ? 'backup schedule' : 'remove backup schedule');
    }
  }
}

/** The timers' jobs: with the off-site one when any backup host has a remote (in homelab.yml the NAS, not the first host). */
function jobsOf(ctx: PlaybookContext, hosts: string[]) {
  const offsite = hosts.find((h) => ctx.hostVars(h).backup_offsite !== undefined) ?? hosts[0]!;
  return backupJobs(backupVars.parse(ctx.hostVars(offsite)));
}

function lastResult<R>(rows: OutcomeRow[], host: string, task: string): R | undefined {
  return rows.filter((r) => r.host === host && r.task.name === task && r.outcome.result !== undefined).at(-1)?.outcome.result as R | undefined;
}


function report(rows: OutcomeRow[]): string {
  switch (mode) {
    case 'list':
      return hostsForReport
        .map((h) => {
          const listing = lastResult<Listing>(rows, h, 'sets');
          if (!listing) return `${h}: no listing (see the errors above)`;
          const v = backupVars.parse(context.hostVars(h));
          const tz = context.hostVars(h).timezone;
          return listReport(h, v.backup_root, listing, { schedule: v.backup_schedule, ...(typeof tz === 'string' ? { timezone: tz } : {}) });
        })
        .join('\n\n');
    case 'verify':
      return hostsForReport
        .map((h) => {
          const r = rows.find((x) => x.host === h && x.task.name === 'verify');
          const v = r?.outcome.result as SetVerdict | undefined;
          return v ? verifyReport(h, v.set, v.items, v.problem) : `${h}: not verified: ${r?.outcome.msg ?? 'see the errors above'}`;
        })
        .join('\n\n');
    case 'install-schedule':
    case 'remove-schedule':
      return scheduleReport(rows, jobsOf(context, hostsForReport), mode === 'remove-schedule' ? 'backup schedule removed' : undefined);
    default: {
      const lines = hostsForReport.map((h) => {
        const set = rows.find((x) => x.host === h && x.task.name === 'backup set');
        if (!set) return `${h}: no set`;
        if (set.outcome.status === 'failed') return `${h}: FAILED: ${set.outcome.msg}`;
        const r = set.outcome.result as { set?: string; bytes: number; items: { name: string }[] } | undefined;
        return `${h}: ${r?.set ? `set ${r.set}, ${r.items.length} items verified, ${r.bytes} bytes` : set.outcome.msg ?? ''}`;
      });
      return lines.join('\n');
    }
  }
}

await runPlaybook(plays, {
  usage,
  flags: {
    list: { type: 'boolean' },
    verify: { type: 'string' },
    offsite: { type: 'boolean' },
    'install-schedule': { type: 'boolean' },
    'remove-schedule': { type: 'boolean' },
    scheduled: { type: 'boolean' },
  },
  report,
});
