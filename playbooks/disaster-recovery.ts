// Disaster recovery: the whole cluster rebuilt from a backup set, measured.
//   npx tsx playbooks/disaster-recovery.ts --from SET|latest [--from-offsite] [--force] [--check]
//   npx tsx playbooks/disaster-recovery.ts --to-time ISO      PostgreSQL alone, to a point in time (pitr-plays.ts)
// The set is verified completely before anything changes; then Docker, the
// swarm, the networks, PostgreSQL alone, the databases and volumes from the
// set, the stacks (the monitoring stack too), and health; a report of each phase's duration, what was
// restored, and what is still unhealthy.
import { InputError, runPlaybook } from 'rigger-ops';
import type { OutcomeRow, PlaybookContext } from 'rigger-ops/lib/cli/main';
import type { CliOptions } from 'rigger-ops/lib/cli/args';
import type { RunEvent } from 'rigger-ops/lib/model/events';
import { backupHosts } from 'rigger-ops/lib/backup/hosts';
import type { ServiceHealth } from 'rigger-ops/lib/ops/docker/health';
import type { RecoverySource, RecoveryVerdict, RestoredDatabase, RestoredVolume } from 'rigger-ops/lib/recovery/ops/index';
import { phaseTimings, recoveryReportText } from 'rigger-ops/lib/recovery/report';
import { PHASE_OF_PLAY, recoveryPlays } from './recovery-plays.ts';
import { parseToTime, pitrConfigIfAny, pitrConfigOf, pitrPlays, pitrReport, type PitrTasks } from './pitr-plays.ts';
import { ARCHIVE_ASIDE_TASK, pitrAgainReport } from './pitr-again.ts';
import type { PitrConfig } from 'rigger-ops/lib/pitr/config';

const usage = `Usage: npx tsx playbooks/disaster-recovery.ts --from SET|latest [flags]
      --from SET|latest       the backup set (YYYYMMDD_HHMMSS); with several backup hosts, each host's
                              set of the same run, nearest it (latest: each host's newest verified set)
                              from each host's own disk, else the verified copy on its copy host
                              (pulled into its backup_root, verified), docs/backups.md
      --from-offsite          else the remote (backup_offsite.remote), decrypted, through the host that has it
                              (the backup disks are lost too)
      --force                 overwrite databases and volumes the cluster still holds (without it, when some
                              backup hosts lost their data, only those are restored and the others kept)
      --to-time ISO           instead of --from: PostgreSQL alone (postgres_pitr), recovered to this time from
                              its base backups and archived WAL; a time outside the archive's reach is refused,
                              naming the reachable range (2026-12-07T13:45:00Z, or with an offset)
`;
let toTime: string | undefined;
/** postgres_pitr of a --from recovery: archiving is started again at its end (pitr-again.ts). */
let archiving: PitrConfig | undefined;
let pitr: PitrTasks | undefined;

let check = false;
/** The --from this run was given, for the report's command to run it again. */
let fromArg = 'SET';
const starts: { phase: string; at: number }[] = [];
const runStart = Date.now();
let stoppedBy: string | undefined;

function plays(opts: CliOptions, ctx: PlaybookContext) {
  if (opts.flags['to-time'] !== undefined) {
    if (opts.flags.from !== undefined || opts.flags['from-offsite']) throw new InputError('command line', '--to-time recovers PostgreSQL alone: not with --from or --from-offsite');
    toTime = parseToTime(opts.flags['to-time']);
    check = opts.check;
    const built = pitrPlays(pitrConfigOf(ctx), toTime);
    pitr = built.tasks;
    return built.plays;
  }
  const from = opts.flags.from;
  if (typeof from !== 'string' || !from) throw new InputError('command line', 'name the set: --from YYYYMMDD_HHMMSS or --from latest');
  if (!/^(latest|\d{8}_\d{6})$/.test(from)) throw new InputError('command line', `--from takes a set name YYYYMMDD_HHMMSS or latest, got ${JSON.stringify(from)}`);
  fromArg = from;
  const hosts = backupHosts(ctx);
  // One host with a remote is enough (the NAS in homelab.yml): the others' sets reach it as copies.
  if (opts.flags['from-offsite'] && !hosts.some((h) => ctx.hostVars(h).backup_offsite !== undefined)) {
    throw new InputError('inventory', `--from-offsite needs backup_offsite on a backup host (${hosts.join(', ')})`);
  }
  check = opts.check;
  archiving = pitrConfigIfAny(ctx);
  return recoveryPlays({ backupHosts: hosts, set: from, offsite: opts.flags['from-offsite'] === true, force: opts.flags.force === true, ...(archiving ? { pitr: archiving } : {}) }).plays;
}

function onEvent(e: RunEvent): void {
  if (e.type === 'play-start') {
    const phase = PHASE_OF_PLAY[e.play];
    if (phase) starts.push({ phase, at: Date.now() });
  }
  if (e.type === 'warning' && /haltOnFailure/.test(e.message)) stoppedBy = e.message;
}

const results = <R>(rows: OutcomeRow[], task: string) => rows.filter((r) => r.task.name === task && r.outcome.status !== 'skipped' && r.outcome.result !== undefined).map((r) => r.outcome.result as R);

/** The set to name when running the recovery again: the one every host read (so a nightly set made since is not picked), else what was given. */
const againFrom = (sources: { set: string }[], given: string) => (sources.length > 0 && sources.every((s) => s.set === sources[0]!.set) ? sources[0]!.set : given);

function report(rows: OutcomeRow[]): string {
  if (toTime !== undefined && pitr) {
    const failed = rows.find((r) => r.outcome.status === 'failed' || r.outcome.status === 'unreachable');
    const of = <R>(name: string) => rows.find((r) => r.task.name === name && r.outcome.result !== undefined)?.outcome.result as R | undefined;
    return pitrReport(toTime, of('point in time reachable'), of('recovered to time'), failed ? `${failed.task.name} on ${failed.host}: ${failed.outcome.msg ?? failed.outcome.status}` : undefined);
  }
  // Each backup host's set, named with its host when there are several.
  const sources = rows
    .filter((r) => r.task.name === 'recovery set' && r.outcome.result !== undefined)
    .map((r) => {
      const s = r.outcome.result as RecoverySource;
      const kept = rows.some((k) => k.host === r.host && k.task.name === 'nothing overwritten without --force' && /^kept as it is/.test(k.outcome.msg ?? ''));
      return { host: r.host, set: s.set, origin: s.origin, originHost: s.originHost, items: s.manifest.items.map((i) => i.name), kept };
    });
  const set = sources.length > 1 ? sources.map((s) => `${s.set} (${s.host})`).join(', ') : sources[0]?.set;
  const verdicts = results<RecoveryVerdict>(rows, 'set verified');
  const verdict = verdicts.find((v) => !v.ok) ?? verdicts.at(-1);
  const failed = rows.filter((r) => r.outcome.status === 'failed' || r.outcome.status === 'unreachable');
  let stopped: string | undefined;
  if (verdict && !verdict.ok) stopped = `set ${verdict.set} did not verify; nothing was changed:\n${verdict.items.filter((i) => !i.ok).map((i) => `  ${i.item}: ${i.detail}`).join('\n')}`;
  else if (failed.length) stopped = `${failed[0]!.task.name} on ${failed[0]!.host}: ${failed[0]!.outcome.msg ?? failed[0]!.outcome.status}${stoppedBy && failed[0]!.task.name.includes('overwritten') ? '; nothing was changed' : ''}`;
  const health = results<ServiceHealth[]>(rows, 'services healthy').at(-1) ?? [];
  const text = recoveryReportText({
    ...(set ? { set } : {}),
    sources,
    timings: phaseTimings(starts, Date.now()),
    totalSeconds: (Date.now() - runStart) / 1000,
    databases: results<RestoredDatabase[]>(rows, 'databases restored').flat(),
    volumes: ['volumes restored', 'gitea restored', 'config restored'].flatMap((t) => results<RestoredVolume[]>(rows, t).flat()),
    unhealthy: health.filter((s) => !s.healthy),
    ...(stopped ? { stopped } : {}),
    check,
  });
  if (!archiving) return text;
  // The pitr role's last task on the archive host: the new cluster's base backup is there.
  const started = rows.some((r) => r.host === archiving!.archive_host && r.task.name === 'base backup' && (r.outcome.status === 'ok' || r.outcome.status === 'changed'));
  const aside = results<{ aside: string }>(rows, ARCHIVE_ASIDE_TASK)[0]?.aside;
  return [text, ...pitrAgainReport(archiving, started, aside || undefined, check, againFrom(sources, fromArg))].join('\n');
}

await runPlaybook(plays, {
  usage,
  flags: { from: { type: 'string' }, 'to-time': { type: 'string' }, 'from-offsite': { type: 'boolean' }, force: { type: 'boolean' } },
  report,
  onEvent,
});
