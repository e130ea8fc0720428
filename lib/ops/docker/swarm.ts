import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, OpFailure, type Decision, type Remote } from '../../model/op.ts';
import { Secret } from '../../shell/secret.ts';
import { dockerInfo, type SwarmState } from '../../facts/docker.ts';
import type { ExecResult } from '../../transport/types.ts';

/** What a swarm member knows about itself after init or join. */
export interface SwarmMembership {
  nodeId: string;
  clusterId: string;
  isManager: boolean;
}

/** The swarm state as the dockerInfo fact reads it. */
const INFO = dockerInfo.command;
export type EngineSwarm = SwarmState & { installed: boolean; running: boolean };
export const swarmOf = (r: ExecResult): EngineSwarm => {
  const info = dockerInfo.parse(r);
  return { ...info.swarm, installed: info.installed, running: info.running };
};
/** Not installed yet is what check mode sees on a fresh host: the change is predictable, the docker role comes first. */
const engineDown = (s: EngineSwarm) => s.installed && !s.running;
const membership = (s: SwarmState): SwarmMembership => ({ nodeId: s.nodeId, clusterId: s.clusterId, isManager: s.isManager });

async function readMembership(remote: Remote): Promise<SwarmMembership> {
  const s = swarmOf(await remote.check(INFO));
  if (s.state !== 'active') throw new OpFailure(`swarm state is ${s.state} after the change${s.error ? `: ${s.error}` : ''}`);
  return membership(s);
}

const address = z.string().regex(/^[A-Za-z0-9.:[\]-]+$/, 'an IP address or host name');

/** A Go duration as `docker swarm init/update --cert-expiry` takes it: hours, minutes, seconds (8760h, 2160h30m). */
export const certExpiry = z.string().regex(/^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/, 'a duration in h, m and s, as Docker takes it (8760h)');
const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };
const durationSeconds = (d: string): number => [...d.matchAll(/(\d+)([hms])/g)].reduce((sum, [, n, u]) => sum + Number(n) * UNIT_SECONDS[u!]!, 0);
/** Seconds as Docker prints a duration's whole hours (2160h), or with its remainder (2160h30m0s). */
const asDuration = (seconds: number) => (seconds % 3600 === 0 ? `${seconds / 3600}h` : `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m${seconds % 60}s`);

/** `docker swarm init` with the inventory's options. */
export const initCommand = (p: { advertiseAddr: string; defaultAddrPool?: string | undefined; certExpiry?: string | undefined }) =>
  sh`docker swarm init --advertise-addr ${p.advertiseAddr} ${p.defaultAddrPool ? ['--default-addr-pool', p.defaultAddrPool] : []} ${p.certExpiry ? ['--cert-expiry', p.certExpiry] : []} >/dev/null`;

/**
 * The first manager: `docker swarm init` once; a host already managing a
 * swarm is left as it is, except its node certificate lifetime, which
 * `docker swarm update --cert-expiry` sets when it differs from certExpiry.
 */
export const init = defineOp({
  kind: 'docker.swarm.init',
  schema: z
    .object({
      advertiseAddr: address,
      defaultAddrPool: z.string().optional(),
      /** The lifetime of the nodes' certificates (Docker's default is 2160h, 90 days). */
      certExpiry: certExpiry.optional(),
    })
    .strict(),
  describe: (p) => `swarm init --advertise-addr ${p.advertiseAddr}${p.certExpiry ? ` --cert-expiry ${p.certExpiry}` : ''}`,
  probe: () => ({ command: INFO, parse: swarmOf }),
  decide: (p, s: EngineSwarm): Decision<SwarmMembership> => {
    if (engineDown(s)) return { kind: 'fail', reason: 'the Docker engine is not running (run the docker role first)' };
    if (s.state === 'active' && s.isManager) {
      const moved = s.nodeAddr && s.nodeAddr !== p.advertiseAddr ? `; it advertises ${s.nodeAddr}, not ${p.advertiseAddr}` : '';
      const want = p.certExpiry === undefined ? undefined : durationSeconds(p.certExpiry);
      // An engine that does not report the spec is left alone: nothing to compare with.
      if (want !== undefined && s.certExpirySeconds !== undefined && s.certExpirySeconds !== want) {
        const was = asDuration(s.certExpirySeconds);
        return {
          kind: 'change',
          msg: `node certificate expiry ${was} -> ${p.certExpiry}${moved}`,
          diff: { kind: 'summary', lines: [`CAConfig.NodeCertExpiry: ${was} -> ${asDuration(want)}`] },
          commands: [sh`docker swarm update --cert-expiry ${p.certExpiry!} >/dev/null`],
          result: () => membership(s),
          checkResult: membership(s),
        };
      }
      return { kind: 'ok', result: membership(s), msg: `manager of swarm ${s.clusterId.slice(0, 12)}${moved}` };
    }
    if (s.state === 'active') return { kind: 'fail', reason: `this host is a worker of swarm ${s.clusterId.slice(0, 12) || '(unknown)'}; it cannot start a new one (leave that swarm first)` };
    if (s.state !== 'inactive') return { kind: 'fail', reason: `swarm state is ${s.state}${s.error ? `: ${s.error}` : ''}; not forcing a new swarm` };
    return {
      kind: 'change',
      msg: `initialise a swarm advertising ${p.advertiseAddr}${p.certExpiry ? `, node certificates valid ${p.certExpiry}` : ''}`,
      apply: async (remote) => {
        await remote.check(initCommand(p));
        return readMembership(remote);
      },
      checkResult: { nodeId: '', clusterId: '', isManager: true },
    };
  },
});

export interface JoinTokens {
  worker: Secret;
  manager: Secret;
  /** The manager's address and port for joining (its advertise address). */
  managerAddr: string;
  clusterId: string;
}

/** Reads the join tokens on a manager: Secrets from the moment they are parsed, so no output or log shows them. */
export const tokens = defineOp({
  kind: 'docker.swarm.tokens',
  schema: z.object({}).strict(),
  describe: () => 'read the swarm join tokens',
  readOnly: true,
  probe: () => ({
    command: sh`docker swarm join-token -q worker 2>&1 && echo @@manager && docker swarm join-token -q manager 2>&1 && echo @@info && docker info --format '{{.Swarm.NodeAddr}} {{.Swarm.Cluster.ID}}' 2>&1 || echo "@@error"`,
    parse: (r: ExecResult) => r.stdout.toString('utf8'),
  }),
  decide: (_p, text: string): Decision<JoinTokens> => {
    if (text.includes('@@error')) {
      const why = text.replace('@@error', '').trim().split('\n').pop() ?? '';
      return /not a swarm manager|This node is not|not found/i.test(why)
        ? { kind: 'skip', reason: 'no swarm here yet (nothing to join in check mode)' }
        : { kind: 'fail', reason: `cannot read the join tokens: ${why}` };
    }
    const [worker = '', rest = ''] = text.split('@@manager\n');
    const [manager = '', info = ''] = rest.split('@@info\n');
    const [addr = '', clusterId = ''] = info.trim().split(' ');
    return {
      kind: 'ok',
      result: { worker: new Secret(worker.trim()), manager: new Secret(manager.trim()), managerAddr: `${addr}:2377`, clusterId },
    };
  },
});

/** What `tokens` returns, checked as such: the tokens must still be Secrets, so no output can show them. */
const joinTokens = z.object({
  worker: z.instanceof(Secret, { message: 'a join token must be a Secret (the result of the tokens op)' }),
  manager: z.instanceof(Secret, { message: 'a join token must be a Secret (the result of the tokens op)' }),
  managerAddr: z.string().min(1),
  clusterId: z.string(),
}) satisfies z.ZodType<JoinTokens>;

const joinSchema = z
  .object({
    role: z.enum(['worker', 'manager']),
    advertiseAddr: address,
    /** From `tokens` on the first manager; absent only in check mode before the swarm exists. */
    join: joinTokens.optional(),
    /**
     * The swarm's cluster id without its tokens (the first manager's init
     * result): a resumed run's record keeps no secret, yet a node in another
     * swarm must still be reported.
     */
    clusterId: z.string().min(1).optional(),
  })
  .strict();

/**
 * Joins this host to the swarm of `join`. A host already in that swarm is
 * ok; a host in another swarm is reported and left alone: forcing it out
 * would break whatever that swarm runs. The token goes to the engine's API
 * on stdin, so it is never in any process's argv.
 */
export const join = defineOp({
  kind: 'docker.swarm.join',
  schema: joinSchema,
  describe: (p) => `swarm join as ${p.role}`,
  probe: () => ({ command: INFO, parse: swarmOf }),
  decide: (p, s: EngineSwarm): Decision<SwarmMembership> => {
    if (engineDown(s)) return { kind: 'fail', reason: 'the Docker engine is not running (run the docker role first)' };
    if (s.state === 'active') {
      const theirs = p.join?.clusterId || p.clusterId;
      if (theirs && s.clusterId && s.clusterId !== theirs) {
        return { kind: 'fail', reason: `already in another swarm (cluster ${s.clusterId.slice(0, 12)}, the manager's is ${theirs.slice(0, 12)}); leave it (docker swarm leave) before it can join` };
      }
      if (p.role === 'manager' && !s.isManager) return { kind: 'fail', reason: 'in the swarm as a worker but listed as a manager: promote it with docker node promote' };
      return { kind: 'ok', result: membership(s), msg: `in swarm ${s.clusterId.slice(0, 12)} as ${s.isManager ? 'manager' : 'worker'}` };
    }
    if (s.state !== 'inactive') return { kind: 'fail', reason: `swarm state is ${s.state}${s.error ? `: ${s.error}` : ''}; leave it (docker swarm leave) before joining` };
    const target = p.join?.managerAddr ?? 'the first manager';
    return {
      kind: 'change',
      msg: `join the swarm at ${target} as ${p.role}`,
      apply: async (remote) => {
        if (!p.join) throw new OpFailure('no join token: the first manager did not report one (a resumed run has none: its record keeps no secret; run the playbook without --resume to join this node)');
        const token = p.role === 'manager' ? p.join.manager : p.join.worker;
        const body = (t: string) => JSON.stringify({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: p.advertiseAddr, RemoteAddrs: [p.join!.managerAddr], JoinToken: t });
        const [before, after] = body('@@TOKEN@@').split('@@TOKEN@@') as [string, string];
        const r = await remote.run(
          sh`curl -sS --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' --data-binary @- -w '\n%{http_code}' http://localhost/swarm/join`.withStdin(before, token, after),
        );
        const code = r.stdout.toString('utf8').trim().split('\n').pop();
        if (r.code !== 0 || code !== '200') throw new OpFailure(`swarm join failed (HTTP ${code}): ${r.stdout.toString('utf8').trim().split('\n')[0] ?? ''} ${r.stderr.toString('utf8').trim()}`.trim(), r);
        return readMembership(remote);
      },
      checkResult: { nodeId: '', clusterId: p.join?.clusterId ?? '', isManager: p.role === 'manager' },
    };
  },
});

/** Node labels set on a manager; labels not named here are left alone. */
export const nodeLabels = defineOp({
  kind: 'docker.swarm.labels',
  schema: z
    .object({
      /** The node's swarm id (from init/join); empty in check mode before the node has joined. */
      nodeId: z.string(),
      labels: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, 'a label key'), z.string()),
    })
    .strict(),
  describe: (p) => `node labels ${Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`,
  probe: (p) => (p.nodeId ? { command: sh`docker node inspect ${p.nodeId} --format '{{json .Spec.Labels}}' 2>&1 || echo "@@error"`, parse: (r: ExecResult) => r.stdout.toString('utf8') } : undefined),
  decide: (p, text: string | undefined): Decision<Record<string, string>> => {
    const wanted = Object.entries(p.labels);
    const setAll = (current: Record<string, string>, todo: [string, string][]): Decision<Record<string, string>> => ({
      kind: 'change',
      msg: `label ${todo.map(([k, v]) => `${k}=${v}`).join(' ')}`,
      diff: { kind: 'summary', lines: todo.map(([k, v]) => `${k}: ${current[k] ?? '(none)'} -> ${v}`) },
      apply: async (remote) => {
        if (!p.nodeId) throw new OpFailure('the node has no swarm id: it has not joined');
        await remote.check(sh`docker node update ${todo.flatMap(([k, v]) => ['--label-add', `${k}=${v}`])} ${p.nodeId} >/dev/null`);
        return { ...current, ...p.labels };
      },
      checkResult: { ...current, ...p.labels },
    });
    if (text === undefined) return setAll({}, wanted);
    if (text.includes('@@error')) return { kind: 'fail', reason: `cannot read node ${p.nodeId}: ${text.replace('@@error', '').trim()}` };
    const current = (JSON.parse(text.trim() || 'null') ?? {}) as Record<string, string>;
    const todo = wanted.filter(([k, v]) => current[k] !== v);
    return todo.length === 0 ? { kind: 'ok', result: current } : setAll(current, todo);
  },
});
export { nodeAvailability } from './node-availability.ts';
export { replacedNodes } from './replaced-nodes.ts';
