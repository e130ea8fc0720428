// Which published ports of the stacks get a `from` limit on a swarm node,
// and from where: the ports the node takes (preflight's reading of the
// stacks: ingress on every node, host mode on the placement's nodes), each
// with the `from` of the inventory's published_ports entries for it.
import { ruleSchema, type Rule } from 'rigger-ops/lib/ops/firewall/rules';
import type { PortLimit } from 'rigger-ops/lib/ops/firewall/docker-user';
import { z } from 'rigger-ops';
import { portsOnNode, type PortsVars } from '../preflight-ports.ts';

export interface LimitsHost {
  name: string;
  groups: readonly string[];
  allVars: Readonly<Record<string, unknown>>;
  vars: PortsVars & { published_ports: Rule[] };
  hostVars(name: string): Readonly<Record<string, unknown>>;
  groupHosts(group: string): readonly string[];
}

type PortRule = Extract<Rule, { port: unknown }>;

const covers = (r: Rule, port: number, proto: string): r is PortRule => {
  if (!('port' in r) || r.proto !== proto) return false;
  if (typeof r.port === 'number') return r.port === port;
  const [a = 0, b = 0] = r.port.split(':').map(Number);
  return port >= a && port <= b;
};

const declared = (v: Readonly<Record<string, unknown>>): Rule[] => {
  const parsed = z.array(ruleSchema).safeParse(v.published_ports ?? []);
  // A bad list is the base role's to report, with its inventory line.
  return parsed.success ? parsed.data : [];
};

export interface NodeLimits {
  limits: PortLimit[];
  /** Ports the node takes that stay open to any address, and why. */
  open: string[];
  problems: string[];
}

/**
 * The node's own published_ports entries for a port decide its limit; a node
 * that declares nothing for it (an ingress port it takes for a service that
 * runs elsewhere) takes the other swarm nodes' entries for it, so the mesh
 * does not open on one node what the inventory limits on another. A port no
 * entry names, or one that an entry opens to any, stays open, as Docker
 * publishes it.
 */
export function nodeLimits(h: LimitsHost): NodeLimits {
  const { ports, problems } = portsOnNode(h);
  const others = [...new Set([...h.groupHosts('managers'), ...h.groupHosts('workers')])].filter((n) => n !== h.name).flatMap((n) => declared(h.hostVars(n)));
  const limits: PortLimit[] = [];
  const open: string[] = [];
  const seen = new Set<string>();
  for (const p of [...ports].sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto))) {
    const key = `${p.port}/${p.proto}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const own = h.vars.published_ports.filter((r) => covers(r, p.port, p.proto));
    const entries = own.length ? own : others.filter((r) => covers(r, p.port, p.proto));
    if (entries.length === 0) open.push(`${key} (${p.service}): no published_ports entry`);
    else if (entries.some((r) => r.from === 'any')) open.push(`${key} (${p.service}): from any`);
    else limits.push({ port: p.port, proto: p.proto, from: [...new Set(entries.map((r) => r.from))] });
  }
  return { limits, open, problems };
}
