import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { dockerInfo } from '../../facts/docker.ts';
import { swarmOf, type EngineSwarm } from '../../ops/docker/swarm.ts';

export type SwarmVerdict = { action: 'keep' | 'fresh' | 'force'; why: string } | { action: 'fail'; why: string };

/**
 * What a recovery does with the first manager's swarm state: a working
 * swarm is kept; no state means a fresh init (the swarm role); a manager
 * that holds swarm state but has no leader (its peers are gone) is made
 * the only manager of the same cluster with --force-new-cluster, which keeps
 * the cluster's services, secrets and networks.
 */
export function swarmVerdict(s: EngineSwarm & { leader: boolean }): SwarmVerdict {
  // Check mode on a rebuilt host: Docker comes with the docker phase, and with it no swarm state.
  if (!s.installed) return { action: 'fresh', why: 'Docker is not installed yet: a fresh swarm is initialised after the docker phase' };
  if (!s.running) return { action: 'fail', why: 'the Docker engine is not running' };
  if (s.state === 'inactive') return { action: 'fresh', why: 'no swarm state on this manager: a fresh swarm is initialised' };
  if (s.state === 'locked') return { action: 'fail', why: 'the swarm is locked: unlock it with its key (docker swarm unlock) and run again' };
  if (s.state === 'active' && !s.isManager) return { action: 'fail', why: `this host is a worker of swarm ${s.clusterId.slice(0, 12)}, not a manager` };
  if (s.state === 'active' && s.leader) return { action: 'keep', why: `swarm ${s.clusterId.slice(0, 12)} has a leader: kept` };
  return { action: 'force', why: `swarm state ${s.state}${s.error ? ` (${s.error})` : ''} without a leader: this manager holds the cluster's state` };
}

export const recoverSwarm = defineOp({
  kind: 'recovery.swarm',
  schema: z.object({ advertiseAddr: z.string().regex(/^[A-Za-z0-9.:[\]-]+$/) }).strict(),
  describe: (p) => p.advertiseAddr,
  probe: () => ({
    command: sh`${dockerInfo.command}; echo @@leader; if command -v docker >/dev/null && docker node ls -q >/dev/null 2>&1; then echo yes; else echo no; fi`,
    parse: (r) => {
      const text = r.stdout.toString('utf8');
      const at = text.lastIndexOf('@@leader\n');
      return { ...swarmOf({ ...r, stdout: Buffer.from(text.slice(0, at)) }), leader: text.slice(at + 9).trim() === 'yes' };
    },
  }),
  decide: (p, s: EngineSwarm & { leader: boolean }): Decision<SwarmVerdict> => {
    const v = swarmVerdict(s);
    if (v.action === 'fail') return { kind: 'fail', reason: v.why };
    if (v.action !== 'force') return { kind: 'ok', result: v, msg: v.why };
    return {
      kind: 'change',
      msg: `docker swarm init --force-new-cluster: ${v.why}`,
      commands: [sh`docker swarm init --force-new-cluster --advertise-addr ${p.advertiseAddr} >/dev/null`],
      result: () => v,
      checkResult: v,
    };
  },
});
