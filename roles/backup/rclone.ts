import { ops, type Op } from 'rigger-ops';
import type { OffsiteSetup } from 'rigger-ops/lib/backup/offsite-setup';

/**
 * rclone made ready the way the host runs it: Debian's package with apt,
 * or the image pulled through Docker (DSM has no apt). Shared by the
 * off-site copy and the recovery's fetch.
 */
export function rcloneInstalled(s: OffsiteSetup | { problem: string }): Op<unknown> {
  if ('problem' in s) return ops.assert({ that: false, message: s.problem }) as Op<unknown>;
  return (s.runner.how === 'package' ? ops.apt.packages({ names: ['rclone'] }) : ops.docker.imagePull({ images: [s.runner.image] })) as Op<unknown>;
}
