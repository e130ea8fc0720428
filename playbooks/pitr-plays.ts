import { definePlay, InputError, type Play, type Task } from 'rigger-ops';
import type { PlaybookContext } from 'rigger-ops/lib/cli/main';
import { backupVars } from 'rigger-ops/lib/backup/config';
import { isUnderRoot } from 'rigger-ops/lib/backup/root-check';
import { pitrConfig, pitrVars, withStackImage, type PitrConfig } from 'rigger-ops/lib/pitr/config';
import * as pitrOps from 'rigger-ops/lib/pitr/ops/index';
import type { PitrRestored } from 'rigger-ops/lib/pitr/ops/index';
import type { ArchiveRange, PitrPlan } from 'rigger-ops/lib/pitr/scripts';

/** The inventory's postgres_pitr, or undefined when no host has one. */
export function pitrConfigIfAny(ctx: PlaybookContext): PitrConfig | undefined {
  const raw = ctx.inventory.hostNames().map((h) => ctx.hostVars(h).postgres_pitr).find((v) => v !== undefined);
  return raw === undefined ? undefined : pitrConfigOf(ctx);
}

/** The inventory's postgres_pitr (read from any host: it names both of its hosts). */
export function pitrConfigOf(ctx: PlaybookContext): PitrConfig {
  const hosts = ctx.inventory.hostNames();
  const raw = hosts.map((h) => ctx.hostVars(h).postgres_pitr).find((v) => v !== undefined);
  if (raw === undefined) throw new InputError('inventory', '--to-time needs postgres_pitr (database_host, archive_host, password) in the inventory');
  for (const h of [(raw as { database_host?: unknown }).database_host, (raw as { archive_host?: unknown }).archive_host]) {
    if (typeof h === 'string' && !hosts.includes(h)) throw new InputError('inventory', `postgres_pitr names host ${h}, which the inventory does not have`);
  }
  const parsed = pitrConfig.safeParse(raw);
  if (!parsed.success) throw new InputError('inventory', `postgres_pitr: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** `--to-time`: an ISO time with its zone (a bare local time would mean another instant on each machine). */
export function parseToTime(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InputError('command line', `--to-time takes an ISO time with its zone, e.g. 2026-12-07T13:45:00Z or 2026-12-07T22:45:00+09:00; got ${JSON.stringify(value)}`);
  }
  return new Date(value).toISOString();
}

export interface PitrTasks {
  plan: Task<PitrPlan & { range: ArchiveRange }>;
  stage: Task<pitrOps.Staged>;
  restore: Task<PitrRestored>;
}

/**
 * Point-in-time recovery of the PostgreSQL service: the archive host says
 * which base backup reaches the time (or refuses, naming the reachable
 * range, before anything is stopped); the database's host brings that base
 * backup and its WAL from the archive host into its staging directory
 * (pitrStage, through the controller), recovers from there, and removes the
 * staged copy (left, named pitr-staged-BASE, when the recovery failed);
 * then the archiving settings again (a base backup holds no replication
 * slot, so the restored server has none until then), and on the archive
 * host a fresh archive for the new timeline (pitrArchiveAside).
 */
export function pitrPlays(c: PitrConfig, to: string): { plays: Play[]; tasks: PitrTasks } {
  const tasks = {} as PitrTasks;
  const halt = { haltOnFailure: true };
  const plan = definePlay({
    name: 'pitr: plan',
    hosts: c.archive_host,
    schema: pitrVars,
    ...halt,
    tasks: ({ task }) => [(tasks.plan = task({ name: 'point in time reachable', op: () => pitrOps.pitrPlan({ config: c, to }) }))],
  });
  const restore = definePlay({
    name: 'pitr: restore',
    hosts: c.database_host,
    schema: pitrVars,
    ...halt,
    tasks: ({ task }) => {
      const planned = (h: { resultOf: <R>(host: string, t: Task<R>) => R | undefined }) => h.resultOf(c.archive_host, tasks.plan) as (PitrPlan & { ok: true }) | undefined;
      const staged = (h: { resultOf: <R>(host: string, t: Task<R>) => R | undefined }) => h.resultOf(c.database_host, tasks.stage);
      tasks.stage = task({
        name: 'archive brought here',
        when: (h) => planned(h) !== undefined && !h.check,
        whenReason: (h) => (h.check ? 'check mode copies nothing' : 'no plan'),
        op: (h) => {
          const dir = pitrOps.stagingDirOf(c.staging_dir, planned(h)!.base);
          // Staged under this host's backup root (homelab.yml: the NAS's volume): that root must pass a set's check first.
          const b = backupVars.parse(h.hostVars(h.name));
          const backupRoot = isUnderRoot(b.backup_root, dir) ? { backupRoot: { root: b.backup_root, create: b.backup_root_create } } : {};
          return pitrOps.pitrStage({ config: c, base: planned(h)!.base, startWal: planned(h)!.startWal, dir, ...backupRoot });
        },
      });
      tasks.restore = task({
        name: 'recovered to time',
        when: (h) => staged(h) !== undefined && !h.check,
        whenReason: (h) => (h.check ? 'check mode stops no database' : 'nothing staged'),
        // The service is scaled on the first manager (the database's host, the NAS, is a worker); without a managers group, here.
        op: (h) => pitrOps.pitrRestore({ config: c, base: planned(h)!.base, startWal: planned(h)!.startWal, to, dir: staged(h)!.dir, manager: h.groupHosts('managers')[0] }),
      });
      return [
        tasks.stage,
        tasks.restore,
        task({
          name: 'staged archive removed',
          when: (h) => h.resultOf(c.database_host, tasks.restore)?.reached !== undefined,
          whenReason: 'nothing was recovered',
          op: (h) => pitrOps.pitrUnstage({ dir: staged(h)!.dir }),
        }),
        task({
          name: 'wal archiving settings',
          when: (h) => !h.check,
          whenReason: 'check mode changes nothing',
          op: () => pitrOps.pitrServer({ config: c }),
          retries: 10,
          delaySeconds: 3,
        }),
      ];
    },
  });
  const archiveAgain = definePlay({
    name: 'pitr: archive again',
    hosts: c.archive_host,
    schema: pitrVars,
    ...halt,
    tasks: ({ task }) => {
      const recovered = (h: { resultOf: <R>(host: string, t: Task<R>) => R | undefined }) => h.resultOf(c.database_host, tasks.restore)?.reached !== undefined;
      return [
        task({ name: 'old timeline kept aside', when: (h) => recovered(h), whenReason: 'nothing was recovered', op: () => pitrOps.pitrArchiveAside({ config: c }) }),
        task({ name: 'wal archiver', when: (h) => recovered(h), whenReason: 'nothing was recovered', op: (h) => pitrOps.walArchiver({ config: withStackImage(c, h.vars.stack_images) }) }),
        task({ name: 'base backup', when: (h) => recovered(h), whenReason: 'nothing was recovered', op: () => pitrOps.pitrBaseBackup({ config: c }), retries: 5, delaySeconds: 3 }),
      ];
    },
  });
  return { plays: [plan, restore, archiveAgain], tasks };
}

/** The report's lines: the range the archive reaches, the base backup used, the time reached. */
export function pitrReport(to: string, plan: (PitrPlan & { range: ArchiveRange }) | undefined, restored: PitrRestored | undefined, failure: string | undefined): string {
  const lines = [`point-in-time recovery to ${to}`];
  if (plan?.ok) lines.push(`  reachable: ${plan.oldest} .. before ${plan.newest} (the newest commit the archived WAL reaches without a gap)`, `  base backup: ${plan.base}`);
  if (restored?.reached) lines.push(`  reached: ${restored.reached} (the last transaction replayed)`);
  if (restored?.aside) lines.push(`  the data held before: ${restored.aside}`);
  if (failure) lines.push(`  stopped: ${failure}`);
  return lines.join('\n');
}
