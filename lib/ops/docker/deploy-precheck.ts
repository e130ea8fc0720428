import { z } from '../../shell/zod.ts';
import { Command, raw, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { DF_LINES, realMounts } from '../../facts/disk-use.ts';

interface NodeRoom {
  runs: string[];
  /** Mount point -> use in percent. */
  disks: Record<string, number>;
  memAvailableMb: number;
}

export function parseRoom(text: string): NodeRoom {
  const room: NodeRoom = { runs: [], disks: {}, memAvailableMb: 0 };
  const df: string[] = [];
  for (const line of text.split('\n')) {
    const [kind, a = ''] = line.trim().split(/\s+/);
    if (kind === '@@runs') room.runs.push(a);
    else if (kind === '@@disk') df.push(line.trim().slice(7));
    else if (kind === '@@mem') room.memAvailableMb = Math.floor(Number(a) / 1024);
  }
  for (const m of realMounts(df)) room.disks[m.mount] = m.percent;
  return room;
}

/**
 * The operators' pre-checks before an update, on each node that runs a task
 * of one of the services: the use of every real mount under the limit (the
 * daily check's mounts: a full backup disk or NFS mount breaks a task as
 * surely as a full /) and enough free memory for a new task. Nodes running
 * none are skipped.
 */
export const deployPrecheck = defineOp({
  kind: 'docker.deployPrecheck',
  schema: z.object({ services: z.array(z.string().min(1)).min(1), maxDiskPercent: z.number().default(85), minFreeMemMb: z.number().default(1024) }).strict(),
  describe: (p) => `room for ${p.services.join(', ')}`,
  readOnly: true,
  probe: (p) => ({
    command: Command.join(
      [
        ...p.services.map((s) => sh`[ -n "$(docker ps -q --filter ${`label=com.docker.swarm.service.name=${s}`} 2>/dev/null)" ] && echo ${`@@runs ${s}`}`),
        sh`${raw(DF_LINES)} | sed 's/^/@@disk /'; awk '/^MemAvailable:/ { print "@@mem", $2 }' /proc/meminfo; true`,
      ],
      '\n',
    ),
    parse: (r: ExecResult) => parseRoom(r.stdout.toString('utf8')),
  }),
  decide: (p, room: NodeRoom): Decision<NodeRoom> => {
    if (room.runs.length === 0) return { kind: 'skip', reason: `runs no task of ${p.services.join(', ')}` };
    const full = Object.entries(room.disks).filter(([, pct]) => pct >= p.maxDiskPercent);
    const problems = [...full.map(([m, pct]) => `disk ${m} ${pct}% used (limit ${p.maxDiskPercent}%)`), ...(room.memAvailableMb < p.minFreeMemMb ? [`${room.memAvailableMb} MB memory free (needs ${p.minFreeMemMb} MB)`] : [])];
    if (problems.length) return { kind: 'fail', reason: problems.join('; ') };
    const disks = Object.entries(room.disks).map(([m, pct]) => `${m} ${pct}%`).join(', ');
    return { kind: 'ok', result: room, msg: `runs ${room.runs.join(', ')}; disk ${disks}; ${room.memAvailableMb} MB free` };
  },
});
