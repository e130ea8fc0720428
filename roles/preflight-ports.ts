// Preflight's port check: every port the inventory's stacks publish, on each
// node that will take it (roles/stacks/placement.ts), against what already
// listens there. Docker's routing mesh takes an ingress port on every node,
// the NAS included, where DSM's own web server holds 80, 443, 5000 and 5001:
// the deploy would fail there, or worse take the port from DSM. Docker's own
// listener for the same service (a second run) is not a collision.
import { defineFact, sh, type Fact } from 'rigger-ops';
import { readInventoryStack, type InventoryStack, type StackModes } from './stacks/read.ts';
import { nodesTaking, publishedPorts, swarmNodeOf, type PublishedPort } from './stacks/placement.ts';

export interface Listener {
  proto: string;
  port: number;
  /** The process holding the socket; '' when `ss` could not see it (another user's, without root). */
  process: string;
  pid?: number;
}

/**
 * The node's listening TCP and bound UDP sockets, from `ss -Hltnup` or, where
 * iproute2 is missing (DSM may have only net-tools), `netstat -ltnup`;
 * undefined when the node has neither.
 */
export function parseListeners(text: string): Listener[] | undefined {
  const [head = '', ...lines] = text.split('\n');
  if (head.trim() === '@@none') return undefined;
  const netstat = head.trim() === '@@netstat';
  return lines
    .map((l) => l.trim())
    .filter((l) => /^(tcp|udp)/.test(l))
    .map((l) => {
      const cols = l.split(/\s+/);
      const local = (netstat ? cols[3] : cols[4]) ?? '';
      const user = netstat ? /\s(\d+)\/([^\s:]+)/.exec(l) : /users:\(\("([^"]+)",pid=(\d+)/.exec(l);
      const [pid, process] = netstat ? [user?.[1], user?.[2]] : [user?.[2], user?.[1]];
      return { proto: (cols[0] ?? '').replace(/6$/, ''), port: Number(local.slice(local.lastIndexOf(':') + 1)), process: process ?? '', ...(pid ? { pid: Number(pid) } : {}) };
    });
}

export const listeners: Fact<Listener[] | undefined> = defineFact(
  'listening ports',
  sh`if command -v ss >/dev/null 2>&1; then echo @@ss; ss -Hltnup 2>/dev/null; elif command -v netstat >/dev/null 2>&1; then echo @@netstat; netstat -ltnup 2>/dev/null; else echo @@none; fi; true`,
  (r) => parseListeners(r.stdout.toString('utf8')),
);

export interface PublishingContainer {
  name: string;
  /** The swarm service the container is a task of; '' for a container started outside Swarm. */
  service: string;
  ports: { port: number; proto: string }[];
}

/** `docker ps` lines NAME<TAB>SERVICE<TAB>PORTS: who is behind a docker-proxy listener. */
export function parseContainers(text: string): PublishingContainer[] {
  return text
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => {
      const [name = '', service = '', ports = ''] = l.split('\t');
      const published = [...ports.matchAll(/:(\d+)(?:-(\d+))?->\d+(?:-\d+)?\/(tcp|udp)/g)].flatMap((m) => {
        const from = Number(m[1]);
        const to = m[2] ? Number(m[2]) : from;
        return Array.from({ length: to - from + 1 }, (_, i) => ({ port: from + i, proto: m[3]! }));
      });
      return { name, service, ports: published };
    });
}

export const publishingContainers: Fact<PublishingContainer[]> = defineFact(
  'containers publishing ports',
  sh`docker ps --format '{{.Names}}\t{{.Label "com.docker.swarm.service.name"}}\t{{.Ports}}' 2>/dev/null || true`,
  (r) => parseContainers(r.stdout.toString('utf8')),
);

export interface PortsVars extends StackModes {
  stacks: InventoryStack[];
  stack_images: Record<string, string>;
}

export interface PortsHost {
  name: string;
  groups: readonly string[];
  allVars: Readonly<Record<string, unknown>>;
  vars: PortsVars;
  fact<F>(f: Fact<F>): F;
}

export interface PortsFinding {
  level: 'pass' | 'warn' | 'fail';
  detail: string;
}

/** The ports this node will take: each stack's published ports whose nodes include it. */
export function portsOnNode(h: Pick<PortsHost, 'name' | 'groups' | 'allVars' | 'vars'>): { ports: PublishedPort[]; problems: string[] } {
  const me = swarmNodeOf(h.name, h.groups, h.allVars);
  if (!me) return { ports: [], problems: [] };
  const ports: PublishedPort[] = [];
  const problems: string[] = [];
  for (const s of h.vars.stacks) {
    const read = readInventoryStack(h.vars, s, h.vars.stack_images);
    if (read.problems) problems.push(...read.problems.map((p) => `stack ${s.name}: ${p.message}`));
    else ports.push(...publishedPorts(s.name, read.compose).filter((p) => nodesTaking(p, [me]).length > 0));
  }
  return { ports, problems };
}

const where = (p: PublishedPort) => `published by ${p.service} (${p.mode === 'ingress' ? 'ingress: every node' : 'host mode: its placement'})`;

/**
 * What holds a port the stacks want here, or '' when nothing does or it is the
 * service itself: Docker's listener (dockerd for the mesh, docker-proxy for a
 * host-mode port) is a collision only when a container of another service, or
 * one started outside Swarm, publishes the port.
 */
function holder(p: PublishedPort, l: Listener, containers: PublishingContainer[]): string {
  const by = l.process ? `${l.process}${l.pid ? ` (pid ${l.pid})` : ''}` : 'a process this user cannot see (run as root to name it)';
  if (!/^(dockerd|docker-proxy)$/.test(l.process)) return by;
  const other = containers.find((c) => c.service !== p.service && c.ports.some((x) => x.port === p.port && x.proto === p.proto));
  return other ? `${l.process} for container ${other.name}${other.service ? ` of service ${other.service}` : ' (not a swarm service)'}` : '';
}

export function portsCheck(h: PortsHost): PortsFinding {
  const { ports, problems } = portsOnNode(h);
  if (problems.length) return { level: 'fail', detail: `cannot read the stacks: ${problems.join('; ')}` };
  if (ports.length === 0) return { level: 'pass', detail: swarmNodeOf(h.name, h.groups, h.allVars) ? 'no stack publishes a port here' : 'not a swarm node' };
  const found: string[] = [];
  // Two services wanting one port on this node collide with each other before anything else.
  const seen = new Map<string, PublishedPort>();
  for (const p of ports) {
    const key = `${p.port}/${p.proto}`;
    const first = seen.get(key);
    if (first && first.service !== p.service) found.push(`${h.name}: ${key} is published by both ${first.service} and ${p.service}`);
    else seen.set(key, p);
  }
  const open = h.fact(listeners);
  if (!open) return { level: found.length ? 'fail' : 'warn', detail: [...found, `cannot list what listens here (neither ss nor netstat): ${[...seen.keys()].join(', ')} unchecked`].join('; ') };
  const containers = h.fact(publishingContainers);
  for (const p of seen.values()) {
    for (const l of open.filter((x) => x.port === p.port && x.proto === p.proto)) {
      const by = holder(p, l, containers);
      if (by) found.push(`${h.name}: ${p.port}/${p.proto}, ${where(p)}, is held by ${by}`);
    }
  }
  const unique = [...new Set(found)];
  return unique.length ? { level: 'fail', detail: unique.join('; ') } : { level: 'pass', detail: `${seen.size} free or the stacks' own: ${[...seen.keys()].join(', ')}` };
}
