import { z } from '../shell/zod.ts';
import type { Command } from '../shell/command.ts';
import { rcloneCommand, rcloneRunner, type RcloneMount } from './rclone-runner.ts';

/**
 * Everything an off-site op needs to reach the remote, as op parameters:
 * how rclone runs on the host, the remote to name (the crypt remote when
 * encrypted), the config rigger wrote, and the directories the remote itself
 * is (a path remote, mounted for the container).
 */
export const offsiteAccess = z
  .object({
    runner: rcloneRunner,
    remote: z.string().min(1),
    config: z.string().optional(),
    remoteMounts: z.array(z.string()).default([]),
  })
  .strict();
export type OffsiteAccess = z.output<typeof offsiteAccess>;

/** rclone for one call that also touches these local directories. */
export function rcloneVia(a: OffsiteAccess, mounts: readonly RcloneMount[]): Command {
  return rcloneCommand(a.runner, { config: a.config, mounts: [...mounts, ...a.remoteMounts] });
}
