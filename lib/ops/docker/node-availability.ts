import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, OpFailure, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';

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

export interface DrainResult {
  availability: string;
  /** Services whose tasks left the node and run elsewhere again. */
  moved: string[];
  /** Services that cannot run anywhere else (placement constraints pin them to the node): they wait for its return. */
  stuck: string[];
}

/**
 * Waits until the node runs no task, then until each service that ran there
 * is back at its replicas, or cannot be placed anywhere else ("no suitable
 * node" for 15 s: printed as @@stuck, not waited for). Exits 3 at the deadline.
 */
function drainWait(node: string, services: string[], timeout: number) {
  // Every value stays outside "...": sh`` quotes it for a bare word; inside double quotes '...' is text and $(...) runs.
  return sh`deadline=$(( $(date +%s) + ${timeout} ))
late() { [ "$(date +%s)" -ge "$deadline" ]; }
while [ -n "$(docker node ps ${node} --filter desired-state=running -q)" ]; do
  late && { echo "tasks still on "${node}":" >&2; docker node ps ${node} --filter desired-state=running --format '  {{.Name}} {{.CurrentState}}' >&2; exit 3; }
  sleep 1
done
while :; do
  waiting= stuck=
  for s in ${services}; do
    # Counted from the tasks: right after the drain, the old tasks still count as running in docker service ls.
    want=$(docker service ls --filter name=$s --format '{{.Name}} {{.Replicas}}' | awk -v s=$s '$1 == s { split($2, a, "/"); print a[2] + 0 }')
    have=$(docker service ps $s --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running')
    [ "$have" -ge "\${want:-0}" ] && continue
    if docker service ps $s --filter desired-state=running --format '{{.Error}}' | grep -q 'no suitable node'; then stuck="$stuck $s"; else waiting="$waiting $s"; fi
  done
  [ -z "$waiting$stuck" ] && exit 0
  # The scheduler says "no suitable node" for a moment while tasks move too: only a lasting one is stuck.
  if [ -z "$waiting" ]; then stuck_for=$(( \${stuck_for:-0} + 1 )); [ "$stuck_for" -ge 15 ] && { echo "@@stuck$stuck"; exit 0; }; else stuck_for=0; fi
  late && { echo "not back at their replicas within ${timeout} s:$waiting" >&2; exit 3; }
  sleep 1
done`;
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
  decide: (p, s: NodeState): Decision<DrainResult> => {
    if (s.error) return { kind: 'fail', reason: `cannot read node ${p.node}: ${s.error}` };
    const drained = p.availability !== 'drain' || s.services.length === 0;
    if (s.availability === p.availability && drained) return { kind: 'ok', result: { availability: p.availability, moved: [], stuck: [] } };
    return {
      kind: 'change',
      msg: `node ${p.node}: ${s.availability} -> ${p.availability}${p.availability === 'drain' && s.services.length ? ` (moves ${s.services.join(', ')})` : ''}`,
      apply: async (remote) => {
        await remote.check(sh`docker node update --availability ${p.availability} ${p.node} >/dev/null`);
        if (p.availability !== 'drain' || s.services.length === 0) return { availability: p.availability, moved: [], stuck: [] };
        const w = await remote.run(drainWait(p.node, s.services, p.timeoutSeconds));
        if (w.code !== 0) throw new OpFailure(`node ${p.node} drained, but its tasks did not come back elsewhere:\n${w.stderr.toString('utf8').trim()}`, w);
        const stuck = /@@stuck (.*)/.exec(w.stdout.toString('utf8'))?.[1]?.trim().split(' ') ?? [];
        return { availability: p.availability, moved: s.services.filter((x) => !stuck.includes(x)), stuck };
      },
      checkResult: { availability: p.availability, moved: s.services, stuck: [] },
    };
  },
});
