import { z } from '../../core/zod.ts';
import { sh } from '../../core/command.ts';
import { defineOp, OpFailure, type Decision } from '../../core/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { convergeWait } from './converge.ts';

interface NodeState {
  availability?: string;
  /** Services with a task meant to run on the node. */
  services: string[];
  error?: string;
}

export function parseNodeState(text: string): NodeState {
  const [head = '', ...rest] = text.trim().split('\n');
  if (head.startsWith('@@error')) return { services: [], error: head.slice(8).trim() || rest.join(' ') };
  // Task names are SERVICE.SLOT (replicated) or SERVICE.NODEID (global).
  const services = [...new Set(rest.filter(Boolean).map((t) => t.replace(/\.[^.]+$/, '')))].sort();
  return { availability: head.trim(), services };
}

/**
 * A swarm node's availability (active / pause / drain), set from a manager.
 * Draining waits until the services that ran tasks on the node are back at
 * their replicas elsewhere, so the node can be worked on when it returns.
 */
export const nodeAvailability = defineOp({
  kind: 'docker.swarm.nodeAvailability',
  schema: z.object({ node: z.string().min(1), availability: z.enum(['active', 'pause', 'drain']), timeoutSeconds: z.number().int().min(1).default(300) }).strict(),
  describe: (p) => `node ${p.node} ${p.availability}`,
  probe: (p) => ({
    command: sh`if a=$(docker node inspect --format '{{.Spec.Availability}}' ${p.node} 2>&1); then echo "$a"; docker node ps ${p.node} --filter desired-state=running --format '{{.Name}}'; else echo "@@error $a"; fi`,
    parse: (r: ExecResult) => parseNodeState(r.stdout.toString('utf8')),
  }),
  decide: (p, s: NodeState): Decision<{ availability: string; moved: string[] }> => {
    if (s.error) return { kind: 'fail', reason: `cannot read node ${p.node}: ${s.error}` };
    const drained = p.availability !== 'drain' || s.services.length === 0;
    if (s.availability === p.availability && drained) return { kind: 'ok', result: { availability: p.availability, moved: [] } };
    return {
      kind: 'change',
      msg: `node ${p.node}: ${s.availability} -> ${p.availability}${p.availability === 'drain' && s.services.length ? ` (moves ${s.services.join(', ')})` : ''}`,
      apply: async (remote) => {
        await remote.check(sh`docker node update --availability ${p.availability} ${p.node} >/dev/null`);
        if (p.availability !== 'drain' || s.services.length === 0) return { availability: p.availability, moved: [] };
        const w = await remote.run(sh`deadline=$(( $(date +%s) + ${p.timeoutSeconds} ))
while [ -n "$(docker node ps ${p.node} --filter desired-state=running -q)" ]; do
  [ "$(date +%s)" -ge "$deadline" ] && { echo "tasks still on ${p.node}:" >&2; docker node ps ${p.node} --filter desired-state=running --format '  {{.Name}} {{.CurrentState}}' >&2; exit 3; }
  sleep 1
done
${convergeWait(sh`${s.services}`, sh``, p.timeoutSeconds)}`);
        if (w.code !== 0) throw new OpFailure(`node ${p.node} drained, but its tasks did not come back elsewhere:\n${w.stderr.toString('utf8').trim()}`, w);
        return { availability: p.availability, moved: s.services };
      },
      checkResult: { availability: p.availability, moved: s.services },
    };
  },
});
