// Which swarm nodes take a port a stack publishes, from the inventory alone
// (preflight runs before the swarm exists): ingress mode takes the port on
// every swarm node (the routing mesh listens everywhere, the NAS included);
// host mode only on the nodes the service's placement constraints allow,
// replicated or global alike (a replicated task may land on any of them).
import type { Compose, ComposeService } from 'rigger-ops/lib/ops/docker/compose';
import { isSwarmNode } from '../kernel-needs.ts';

/** A swarm node as the swarm role makes it: role from the group, labels from node_role and swarm_node_labels. */
export interface SwarmNode {
  name: string;
  role: 'manager' | 'worker';
  labels: Record<string, string>;
}

export function swarmNodeOf(name: string, groups: readonly string[], vars: Readonly<Record<string, unknown>>): SwarmNode | undefined {
  if (!isSwarmNode(groups)) return undefined;
  const own: Record<string, string> = typeof vars.node_role === 'string' ? { role: vars.node_role } : {};
  const extra = (vars.swarm_node_labels ?? {}) as Record<string, string>;
  return { name, role: groups.includes('managers') ? 'manager' : 'worker', labels: { ...own, ...extra } };
}

/**
 * Whether a node may run a service with these constraints (Docker's
 * `node.role`, `node.labels.KEY`, `node.hostname` with == and !=). The
 * hostname is the machine's, which the inventory does not hold: the inventory
 * name or its first label stands for it. Attributes the inventory cannot
 * know (node.id, node.platform.*, engine.labels.*) do not narrow the nodes,
 * so a collision there is reported rather than missed.
 */
export function eligible(node: SwarmNode, constraints: readonly string[]): boolean {
  return constraints.every((c) => {
    const m = /^\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*$/.exec(c);
    if (!m) return true;
    const [, attr, op, value] = m as unknown as [string, string, '==' | '!=', string];
    let actual: string[] | undefined;
    if (attr === 'node.role') actual = [node.role];
    else if (attr === 'node.hostname') actual = [node.name, node.name.split('.')[0]!];
    else if (attr.startsWith('node.labels.')) {
      const v = node.labels[attr.slice('node.labels.'.length)];
      actual = v === undefined ? [] : [v];
    }
    if (actual === undefined) return true;
    const equal = actual.includes(value);
    return op === '==' ? equal : !equal;
  });
}

export interface PublishedPort {
  stack: string;
  /** STACK_SERVICE, the name Swarm gives the service. */
  service: string;
  port: number;
  proto: 'tcp' | 'udp';
  mode: 'ingress' | 'host';
  constraints: string[];
}

/** Published ports of one port entry: long syntax, "[IP:]PUB[-PUB]:TARGET[/proto]", or a bare target (a random port: nothing to check). */
function portsOf(p: NonNullable<ComposeService['ports']>[number]): { port: number; proto: 'tcp' | 'udp'; mode: 'ingress' | 'host' }[] {
  const range = (text: string) => {
    const [a = NaN, b = a] = text.split('-').map(Number);
    return Number.isInteger(a) && Number.isInteger(b) && b >= a ? Array.from({ length: b - a + 1 }, (_, i) => a + i) : [];
  };
  if (typeof p === 'number') return [];
  if (typeof p === 'string') {
    const [spec = '', proto = 'tcp'] = p.split('/');
    const parts = spec.split(':');
    if (parts.length < 2) return [];
    return range(parts[parts.length - 2]!).map((port) => ({ port, proto: proto === 'udp' ? 'udp' : 'tcp', mode: 'ingress' }));
  }
  if (p.published === undefined) return [];
  return range(String(p.published)).map((port) => ({ port, proto: p.protocol ?? 'tcp', mode: p.mode ?? 'ingress' }));
}

export function publishedPorts(stack: string, compose: Compose): PublishedPort[] {
  return Object.entries(compose.services).flatMap(([name, svc]) =>
    (svc.ports ?? []).flatMap((p) => portsOf(p).map((x) => ({ stack, service: `${stack}_${name}`, ...x, constraints: svc.deploy?.placement?.constraints ?? [] }))),
  );
}

/** The nodes that take a published port: every swarm node in ingress mode, the eligible ones in host mode. */
export function nodesTaking(p: PublishedPort, nodes: readonly SwarmNode[]): string[] {
  return nodes.filter((n) => p.mode === 'ingress' || eligible(n, p.constraints)).map((n) => n.name);
}
