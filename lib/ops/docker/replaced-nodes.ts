import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, OpFailure, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';

/** One line of `docker node ls` as this op reads it. */
export interface NodeEntry {
  id: string;
  hostname: string;
  status: string;
  manager: boolean;
}

export function parseNodeList(text: string): NodeEntry[] {
  return text
    .split('\n')
    .map((l) => l.trim().split('\t'))
    .filter((f) => f.length >= 3 && f[0])
    .map(([id, hostname, status, managerStatus]) => ({ id: id!, hostname: hostname!, status: status!, manager: (managerStatus ?? '').trim() !== '' }));
}

/**
 * The entries a rebuilt node left behind: a node whose disk was lost joins
 * again as a new swarm node under the same hostname, and its old entry stays
 * Down beside it. Swarm still counts that entry's tasks (a global service
 * shows 5/4, a placed one 2/1) and health reads an empty address for it, so
 * the old entry goes. Only entries that are Down and share the hostname of
 * the node that is in the swarm now: a node that is merely off keeps its
 * entry until it comes back.
 */
export function replacedBy(nodes: readonly NodeEntry[], nodeId: string): NodeEntry[] {
  const me = nodes.find((n) => n.id === nodeId);
  if (!me) return [];
  return nodes.filter((n) => n.id !== nodeId && n.hostname === me.hostname && n.status === 'Down');
}

/** Removes the old swarm entries of a node that was rebuilt (run on a manager). */
export const replacedNodes = defineOp({
  kind: 'docker.swarm.replaced-nodes',
  schema: z
    .object({
      /** The node's swarm id now (from init/join); empty in check mode before it has joined. */
      nodeId: z.string(),
    })
    .strict(),
  describe: (p) => `old swarm entries of node ${p.nodeId || '(not joined yet)'}`,
  probe: (p) => (p.nodeId ? { command: sh`docker node ls --format '{{.ID}}\t{{.Hostname}}\t{{.Status}}\t{{.ManagerStatus}}'`, parse: (r: ExecResult) => (r.code === 0 ? parseNodeList(r.stdout.toString('utf8')) : { error: r.stderr.toString('utf8').trim() }) } : undefined),
  decide: (p, s: NodeEntry[] | { error: string } | undefined): Decision<{ removed: string[] }> => {
    if (s === undefined) return { kind: 'ok', result: { removed: [] }, msg: 'not joined yet' };
    if (!Array.isArray(s)) return { kind: 'fail', reason: `cannot list the swarm's nodes: ${s.error}` };
    const old = replacedBy(s, p.nodeId);
    if (!old.length) return { kind: 'ok', result: { removed: [] } };
    const names = old.map((n) => `${n.id} (${n.hostname}, Down${n.manager ? ', a manager' : ''})`);
    return {
      kind: 'change',
      msg: `remove the entry the rebuilt node left: ${names.join(', ')}`,
      checkResult: { removed: old.map((n) => n.id) },
      apply: async (remote) => {
        for (const n of old) {
          // A manager's entry is demoted first: Docker refuses to remove a manager (docs: "docker node rm").
          const r = await remote.run(sh`${n.manager ? sh`docker node demote ${n.id} >/dev/null && ` : sh``}docker node rm ${n.id} >/dev/null`);
          if (r.code !== 0) throw new OpFailure(`cannot remove the old swarm entry ${n.id} of ${n.hostname}: ${r.stderr.toString('utf8').trim()}`, r);
        }
        return { removed: old.map((n) => n.id) };
      },
    };
  },
});
