import { z } from '../../shell/zod.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { rcloneHost, type RcloneHost } from '../rclone-runner.ts';

/**
 * What a host offers for running rclone (apt, docker), as a task's result:
 * for a step another host delegates to it (the recovery's off-site fetch
 * runs on the host with the remote's config on behalf of each host).
 */
export const rcloneHostProbe = defineOp({
  kind: 'backup.rclone-host',
  schema: z.object({}).strict(),
  describe: () => 'apt and docker',
  readOnly: true,
  probe: () => ({ command: rcloneHost.command, parse: rcloneHost.parse }),
  decide: (_p, s: RcloneHost): Decision<RcloneHost> => ({ kind: 'ok', result: s, msg: s.apt ? "apt: Debian's rclone" : s.docker ? 'no apt, docker: the rclone image' : 'neither apt nor docker' }),
});
