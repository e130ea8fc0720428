// What the inventory's swarm settings ask of each swarm node's kernel and
// firewall, read from the variables the networks and stacks roles own (so
// the base role and preflight decide as those roles will act).
import { kernelFeatures, type KernelFeatures } from 'rigger-ops/lib/facts/kernel';
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

/** A preflight finding (playbooks/preflight.ts prints it in its table). */
export interface KernelVerdict {
  level: 'pass' | 'warn' | 'fail';
  detail: string;
}

/**
 * Preflight's kernel check: on a swarm node, ESP where an overlay is
 * encrypted and IPVS where services use virtual IPs or the ingress mesh. A
 * kernel without them accepts the settings and then drops the traffic
 * silently (the lab's kernel is one), so it fails here, naming the feature,
 * its option and the node, before any role changes anything.
 */
export function kernelVerdict(h: { name: string; groups: readonly string[]; allVars: Vars; fact(f: typeof kernelFeatures): KernelFeatures }): KernelVerdict {
  if (!isSwarmNode(h.groups)) return { level: 'pass', detail: 'not a swarm node' };
  const ipvsFor = ipvsNeed(h.allVars);
  const needs = [
    ...(encryptedOverlays(h.allVars) ? [{ name: 'ESP', key: 'esp' as const, why: 'encrypted overlay networks (overlay_encrypted)' }] : []),
    ...(ipvsFor ? [{ name: 'IPVS', key: 'ipvs' as const, why: ipvsFor }] : []),
  ];
  if (!needs.length) return { level: 'pass', detail: 'neither ESP nor IPVS needed (overlays not encrypted; host-mode ports and dnsrr)' };
  const k = h.fact(kernelFeatures);
  const found = needs.map((n) => ({ ...n, presence: k[n.key] }));
  const missing = found.filter((f) => f.presence.state === 'no');
  if (missing.length) return { level: 'fail', detail: `${h.name}: kernel ${k.release} lacks ${missing.map((f) => `${f.name} (${f.presence.source}), needed by ${f.why}`).join('; ')}` };
  const unknown = found.filter((f) => f.presence.state === 'unknown');
  if (unknown.length) return { level: 'warn', detail: `${h.name}: cannot tell whether kernel ${k.release} has ${unknown.map((f) => `${f.name}, needed by ${f.why}`).join('; ')}: ${unknown[0]!.presence.source}` };
  return { level: 'pass', detail: found.map((f) => `${f.name}: ${f.presence.source}`).join(', ') };
}
