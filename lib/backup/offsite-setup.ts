import type { BackupVars } from './config.ts';
import type { OffsiteAccess } from './offsite-access.ts';
import { offsiteTarget, type OffsiteTarget } from './offsite-target.ts';
import { chooseRunner, type RcloneHost, type RcloneRunner } from './rclone-runner.ts';

export interface OffsiteSetup {
  runner: RcloneRunner;
  target: OffsiteTarget;
  /** The off-site ops' parameters. */
  access: OffsiteAccess;
}

/**
 * A host's off-site setup from its variables and what it offers (the
 * rclone host fact): the same for the copy (roles/backup) and the
 * recovery's fetch (playbooks/recovery-plays.ts).
 */
export function offsiteSetup(vars: BackupVars, host: RcloneHost): OffsiteSetup | { problem: string } {
  if (!vars.backup_offsite) return { problem: 'no backup_offsite on this host' };
  const runner = chooseRunner(vars.backup_rclone, vars.backup_rclone_image, host);
  if ('problem' in runner) return runner;
  const target = offsiteTarget(vars.backup_offsite, vars.backup_offsite_crypt_password, vars.backup_offsite_crypt_salt, vars.backup_rclone_config);
  if ('problem' in target) return target;
  const access: OffsiteAccess = { runner, remote: target.remote, remoteMounts: target.mounts, ...(target.config ? { config: target.config } : {}) };
  return { runner, target, access };
}
