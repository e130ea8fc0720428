import path from 'node:path';
import { ops, type HostContext, type Op } from 'rigger-ops';
import type { BackupVars } from 'rigger-ops/lib/backup/config';
import { offsiteSetup, type OffsiteSetup } from 'rigger-ops/lib/backup/offsite-setup';
import { rcloneHost } from 'rigger-ops/lib/backup/rclone-runner';

/** A host's off-site setup: how rclone runs there (a probe of apt and docker), the remote (encrypted or not), the config. */
export const offsiteSetupOf = (h: HostContext<any>) => offsiteSetup(h.vars as BackupVars, h.fact(rcloneHost));

/**
 * rclone made ready the way the host runs it: Debian's package with apt,
 * or the image pulled through Docker (DSM has no apt). Shared by the
 * off-site copy and the recovery's fetch.
 */
export function rcloneInstalled(s: OffsiteSetup | { problem: string }): Op<unknown> {
  if ('problem' in s) return ops.assert({ that: false, message: s.problem }) as Op<unknown>;
  return (s.runner.how === 'package' ? ops.apt.packages({ names: ['rclone'] }) : ops.docker.imagePull({ images: [s.runner.image] })) as Op<unknown>;
}

/** rclone's config is written (0600, the content a Secret) when the inventory gives one or the crypt keys. */
export const needsConfig = (s: OffsiteSetup | { problem: string }): s is OffsiteSetup => !('problem' in s) && s.target.content !== undefined;

export const rcloneConfig = (s: OffsiteSetup) =>
  ops.each<unknown>('rclone config', [
    // Its directory first: /etc/rigger does not exist on a host no other role wrote to.
    ops.file({ path: path.dirname(s.target.config!), state: 'directory', mode: '0700' }),
    ops.copy({ path: s.target.config!, content: s.target.content!, mode: '0600' }),
  ]);

export const NO_CONFIG = "no backup_offsite.rclone_config and no crypt keys: rclone's own config is used";
