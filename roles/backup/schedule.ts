import type { BackupVars } from 'rigger-ops/lib/backup/config';
import type { ScheduledJob } from 'rigger-ops/lib/scheduled/release';

/**
 * The backup's scheduled jobs (run by roles/scheduled on backup_scheduler):
 * the nightly set, and the weekly off-site copy when one is configured. A
 * failed run is logged and sent to backup_webhook; a good one is logged.
 * Each stops after its timeout (backup_timeout, offsite_timeout: 2 h),
 * which is reported as a failure.
 */
export function backupJobs(v: BackupVars): ScheduledJob[] {
  const jobs: ScheduledJob[] = [{ name: 'rigger-backup', what: 'backup set', schedule: v.backup_schedule, args: ['--scheduled'], notify: 'failure', timeoutSeconds: v.backup_timeout }];
  if (v.backup_offsite) jobs.push({ name: 'rigger-backup-offsite', what: 'off-site copy', schedule: v.offsite_schedule, args: ['--offsite', '--scheduled'], notify: 'failure', timeoutSeconds: v.offsite_timeout });
  return jobs;
}
