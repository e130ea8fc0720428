// What the inventory's swarm settings ask of each swarm node's kernel and
// firewall, read from the variables the networks and stacks roles own (so
// the base role and preflight decide as those roles will act).
import { advertiseAddr } from './common.ts';

type Vars = Readonly<Record<string, unknown>>;

/** The swarm's nodes: what the swarm play runs on (managers:workers). */
export const isSwarmNode = (groups: readonly string[]) => groups.includes('managers') || groups.includes('workers');

/**
 * Whether any overlay network the networks role creates is encrypted: a
 * network's own `encrypted`, else `overlay_encrypted`, whose default (true)
 * is the networks role's. Docker encrypts such a network's VXLAN traffic
 * with IPsec ESP (IP protocol 50) between the nodes.
 */
export function encryptedOverlays(vars: Vars): boolean {
  const networks = Array.isArray(vars.overlay_networks) ? (vars.overlay_networks as unknown[]) : [];
  const byDefault = vars.overlay_encrypted !== false;
  return networks.some((n) => (typeof n === 'object' && n !== null && typeof (n as { encrypted?: unknown }).encrypted === 'boolean' ? (n as { encrypted: boolean }).encrypted : byDefault));
}

/**
 * Why the swarm needs IPVS, or '' when it does not: services behind a
 * virtual IP (endpoint mode vip) and ports published on the routing mesh
 * (ingress) are both load-balanced by IPVS in the kernel. Defaults are the
 * stacks role's (vip, ingress); the monitoring role deploys a stack too.
 */
export function ipvsNeed(vars: Vars): string {
  const stacks = (Array.isArray(vars.stacks) && vars.stacks.length > 0) || vars.monitoring_enabled === true;
  if (!stacks) return '';
  const reasons = [(vars.service_publish_mode ?? 'ingress') === 'ingress' ? 'ports published in ingress mode (service_publish_mode)' : '', (vars.service_endpoint_mode ?? 'vip') === 'vip' ? 'virtual IPs (service_endpoint_mode vip)' : ''];
  return reasons.filter(Boolean).join(' and ');
}

/** The addresses the other swarm nodes reach this one from: each one's advertise address (as the swarm role gives it). */
export function otherSwarmNodes(h: { name: string; hostVars(host: string): Vars; groupHosts(group: string): readonly string[] }): { name: string; address: string }[] {
  const nodes = [...new Set([...h.groupHosts('managers'), ...h.groupHosts('workers')])].filter((n) => n !== h.name);
  return nodes.map((n) => ({ name: n, address: advertiseAddr(h.hostVars(n), n) }));
}
