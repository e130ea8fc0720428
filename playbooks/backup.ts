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
import { listReport, verifyReport, type CopiesView } from 'rigger-ops/lib/backup/report';
import type { CopyState } from 'rigger-ops/lib/backup/copy-state';
import { copiesDir, copyHostFor } from 'rigger-ops/lib/backup/copy-host';
import type { SetVerdict } from 'rigger-ops/lib/backup/ops/verify';
import { ops } from 'rigger-ops';
import { backupOffsite, backupSet, copyHostOf } from '../roles/backup/index.ts';
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
      return [
        definePlay({
          name: 'backup sets',
          hosts: pattern,
          schema: backupVars,
          tasks: ({ task }) => {
            const sets = task({ name: 'sets', op: (h) => backupOps.sets({ root: h.vars.backup_root }) });
            return [
              sets,
              // Each set's second copy, read on the copy host: sizes for all, sha256 for the newest.
              task({
                name: 'copies',
                when: (h) => copyHostOf(h) !== undefined && h.result(sets) !== undefined,
                whenReason: 'no copy host, or no listing',
                // Evaluated before `when`: a host without a copy host names itself (the task is then skipped).
      delegateTo: (h) => copyHostOf(h) ?? h.name,
                op: (h) => {
                  const names = h.result<Listing>(sets)!.sets.filter((s) => s.state === 'published').map((s) => s.name);
                  const root = backupVars.parse(h.hostVars(copyHostOf(h)!)).backup_root;
                  return backupOps.copyStates({ dir: copiesDir(root, h.name), sets: names, sha256: names.slice(-1) });
                },
              }),
            ];
          },
        }),
      ];
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


/** The default mode's second line per host: where its copies went, and which sets have one copy only. */
function copyLine(rows: OutcomeRow[], h: string): string {
  const to = copyHostFor(h, context.inventory.hostsOf('all'), (x) => context.hostVars(x));
  if (!to) return 'copy: one copy only (no copy host: a single backup host)';
  const r = rows.find((x) => x.host === h && x.task.name === 'copies');
  if (!r || r.outcome.status === 'skipped') return `copy: none made to ${to} (${r?.outcome.msg ?? 'no set was published'}): every set has one copy only`;
  if (r.outcome.status === 'failed') return `copy: FAILED to ${to}: ${r.outcome.msg}; the sets not copied have one copy only`;
  const pulled = (r.outcome.result as { set: string; bytes: number }[] | undefined) ?? [];
  const made = pulled.filter((p) => p.bytes > 0).map((p) => p.set);
  return `copy: ${pulled.length} sets verified on ${to} in copies/${h}${made.length ? ` (copied now: ${made.join(', ')})` : ''}`;
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
          const copies: CopiesView = { host: copyHostFor(h, context.inventory.hostsOf('all'), (x) => context.hostVars(x)), states: lastResult<Record<string, CopyState>>(rows, h, 'copies') };
          return listReport(h, v.backup_root, listing, { schedule: v.backup_schedule, ...(typeof tz === 'string' ? { timezone: tz } : {}), copies });
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
    case 'offsite': {
      const all = context.inventory.hostsOf('all');
      const backup = backupHosts(context);
      const hasOffsite = (h: string) => context.hostVars(h).backup_offsite !== undefined;
      const lines = hostsForReport.map((h) => {
        const r = rows.find((x) => x.host === h && x.task.name === 'off-site copy');
        return `${h}: ${r ? `${r.outcome.status === 'failed' ? 'FAILED: ' : ''}${r.outcome.msg ?? r.outcome.status}` : 'no off-site copy (see the errors above)'}`;
      });
      return [...lines, backupOps.offsiteReachLine(backupOps.hostsNotOffsite(backup, hasOffsite, (h) => copyHostFor(h, all, (x) => context.hostVars(x))))].join('\n');
    }
    case 'install-schedule':
    case 'remove-schedule':
      return scheduleReport(rows, jobsOf(context, hostsForReport), mode === 'remove-schedule' ? 'backup schedule removed' : undefined);
    default: {
      const lines = hostsForReport.map((h) => {
        const set = rows.find((x) => x.host === h && x.task.name === 'backup set');
        if (!set) return `${h}: no set`;
        if (set.outcome.status === 'failed') return `${h}: FAILED: ${set.outcome.msg}`;
        const r = set.outcome.result as { set?: string; bytes: number; items: { name: string }[] } | undefined;
        return `${h}: ${r?.set ? `set ${r.set}, ${r.items.length} items verified, ${r.bytes} bytes` : set.outcome.msg ?? ''}\n  ${copyLine(rows, h)}`;
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
