// The operators' daily check, on every node at once: disk use per mount
// (warn 80 %, fail 85 %), memory (warn over 85 % used), load (over 5.0),
// CPU (over 80 %), GPU memory (over 90 %), unhealthy containers (fail),
// journal errors of the last 24 h; on the first manager the swarm's nodes,
// every service's replicas and restarts, the certificates of
// daily_tls_endpoints (warn under 30 days); on the backup node the age of
// the newest verified set (fail over 26 h), and its second copy on the copy
// host (fail when missing or damaged: every file's sha256; warn with one
// backup host only); with postgres_pitr, on the database's host, the
// archiver's replication slot (fail when missing, inactive or lost; warn
// when unreserved). Each threshold is an inventory
// variable (roles/daily-check.ts), these are the operators' defaults.
// A table (or, with --json, the findings as JSON in the report event);
// exits 2 when anything fails.
//   npx tsx playbooks/daily-check.ts [-i inventory] [--json]
//   npx tsx playbooks/daily-check.ts --install-schedule   run daily (daily_check_schedule) on backup_scheduler, the report to backup_webhook
//   npx tsx playbooks/daily-check.ts --remove-schedule
import { definePlay, InputError, ops, runPlaybook, z } from 'rigger-ops';
import { cronSchedule } from 'rigger-ops/lib/ops/cron/entry';
import type { ScheduledJob } from 'rigger-ops/lib/scheduled/release';
import { jobTimeout } from 'rigger-ops/lib/scheduled/timeout';
import type { OutcomeRow } from 'rigger-ops/lib/cli/main';
import type { Finding } from 'rigger-ops/lib/daily/findings';
import { alignColumns } from 'rigger-ops/lib/shell/columns';
import { onFirstManager } from '../roles/common.ts';
import { dailyCheckVars, thresholdsFrom } from '../roles/daily-check.ts';
import { schedulePlays, schedulerOf, scheduleReport } from './schedule-plays.ts';
import { backupVars } from 'rigger-ops/lib/backup/config';
import { copiesDir, copyHostFor } from 'rigger-ops/lib/backup/copy-host';
import { pitrConfig } from 'rigger-ops/lib/pitr/config';

const failing = (f: Finding[]) => f.filter((x) => x.level === 'fail');
const READINGS = ['node', 'swarm', 'backup age', 'backup copy', 'pitr archiver'];
let json = false;
let schedule: { jobs: ScheduledJob[]; removed: boolean } | undefined;

/** The daily run: every result (not only failures) goes to the webhook, as the operators read the check each morning. */
function dailyJob(vars: Readonly<Record<string, unknown>>): ScheduledJob {
  const when = cronSchedule.default('0 7 * * *').safeParse(vars.daily_check_schedule);
  if (!when.success) throw new InputError('inventory', `daily_check_schedule: ${when.error.issues[0]?.message ?? 'not a cron schedule'}`);
  const timeout = jobTimeout.safeParse(vars.daily_check_timeout);
  if (!timeout.success) throw new InputError('inventory', `daily_check_timeout: ${timeout.error.issues[0]?.message ?? 'not a duration'}`);
  return { name: 'rigger-daily-check', what: 'daily check', schedule: when.data, args: ['--scheduled'], notify: 'always', timeoutSeconds: timeout.data };
}

/** Every reading's findings; a host that could not be read at all is a failure of its own. */
function findings(rows: OutcomeRow[]): Finding[] {
  return rows
    .filter((r) => READINGS.includes(r.task.name))
    .flatMap((r): Finding[] => {
      if (Array.isArray(r.outcome.result)) return r.outcome.result as Finding[];
      if (r.outcome.status === 'skipped') return [];
      return [{ area: 'reachable', subject: r.host, level: 'fail', detail: r.outcome.msg ?? r.outcome.status }];
    });
}

function report(rows: OutcomeRow[]): string {
  if (schedule) return scheduleReport(rows, schedule.jobs, schedule.removed ? 'daily check schedule removed' : undefined);
  const all = findings(rows);
  if (json) return JSON.stringify(all);
  const order = { fail: 0, warn: 1, pass: 2 };
  const sorted = [...all].sort((a, b) => order[a.level] - order[b.level]);
  return alignColumns([['', 'area', 'subject', 'detail'], ...sorted.map((f) => [f.level.toUpperCase(), f.area, f.subject, f.detail])]);
}

const schema = dailyCheckVars.safeExtend({
  backup_items: z.array(z.unknown()).default([]),
  backup_root: z.string().default('/volume1/backup'),
  postgres_pitr: pitrConfig.optional(),
});

await runPlaybook(
  (opts, ctx) => {
    // The scheduled runner reads the events as JSON, but the report it sends is for people: a table.
    json = opts.json && !opts.flags.scheduled;
    if (opts.flags['install-schedule'] && opts.flags['remove-schedule']) throw new InputError('command line', 'one of --install-schedule and --remove-schedule');
    if (opts.flags['install-schedule'] || opts.flags['remove-schedule']) {
      const removed = opts.flags['remove-schedule'] === true;
      schedule = { jobs: [dailyJob(ctx.hostVars(schedulerOf(ctx).source))], removed };
      return schedulePlays(opts, ctx, schedule.jobs, removed ? 'absent' : 'present', removed ? 'remove daily check schedule' : 'daily check schedule');
    }
    return [
      // One play, readings first and the verdict last: a failed reading must not stop a host's other readings.
      definePlay({
        name: 'daily check',
        hosts: 'all',
        schema,
        tasks: ({ task }) => {
          const node = task({ name: 'node', op: (h) => ops.daily.node({ host: h.name, thresholds: thresholdsFrom(h.vars) }) });
          const swarm = task({ name: 'swarm', ...onFirstManager('the swarm is read'), op: (h) => ops.daily.swarm({ tlsEndpoints: h.vars.daily_tls_endpoints, certWarnDays: h.vars.daily_cert_warn_days }) });
          const backup = task({
            name: 'backup age',
            when: (h) => h.vars.backup_items.length > 0,
            whenReason: 'no backup_items here',
            op: (h) => ops.daily.backup({ host: h.name, root: h.vars.backup_root, maxHours: h.vars.daily_backup_max_hours }),
          });
          // The newest set's second copy, read on the copy host (docs/backups.md).
          const copy = task({
            name: 'backup copy',
            when: (h) => h.vars.backup_items.length > 0,
            whenReason: 'no backup_items here',
            op: (h) => {
              const copyHost = copyHostFor(h.name, h.groupHosts('all'), (x) => h.hostVars(x));
              const copyDir = copyHost ? copiesDir(backupVars.parse(h.hostVars(copyHost)).backup_root, h.name) : undefined;
              return ops.daily.backupCopy({ host: h.name, root: h.vars.backup_root, ...(copyHost && copyDir ? { copyHost, copyDir } : {}) });
            },
          });
          // Point in time's archiver, by the server's replication slot on the database's host (docs/backups.md):
          // pg_receivewal retrying a lost slot keeps its container running, so the container alone says nothing.
          const archiver = task({
            name: 'pitr archiver',
            when: (h) => h.vars.postgres_pitr?.database_host === h.name,
            whenReason: 'not the database host of postgres_pitr',
            op: (h) => {
              const c = h.vars.postgres_pitr!;
              return ops.daily.pitrArchiver({ host: h.name, service: c.service, admin: c.admin, slot: c.slot, archiveHost: c.archive_host });
            },
          });
          return [
            node,
            swarm,
            backup,
            copy,
            archiver,
            task({
              name: 'verdict',
              op: (h) => {
                const bad = failing([...(h.result(node) ?? []), ...(h.result(swarm) ?? []), ...(h.result(backup) ?? []), ...(h.result(copy) ?? []), ...(h.result(archiver) ?? [])]);
                return ops.assert({ that: bad.length === 0, message: `failed: ${bad.map((b) => `${b.subject} ${b.detail}`).join('; ')}`, success: 'nothing failed' });
              },
            }),
          ];
        },
      }),
    ];
  },
  { report, flags: { 'install-schedule': { type: 'boolean' }, 'remove-schedule': { type: 'boolean' }, scheduled: { type: 'boolean' } } },
);
