// Which images a swarm node pulls before a deploy: those of the services its
// placement allows there (placement.ts, the reading preflight's port check
// uses), read from the inventory's stacks as the stacks role deploys them.
// A replicated task may land on any eligible node, so each of them pulls.
import { readInventoryStack, type InventoryStack, type StackModes } from './read.ts';
import { eligible, nodesTaking, publishedPorts, swarmNodeOf, type SwarmNode } from './placement.ts';
import { REGISTRY_IMAGE, registryOf, type NamedNode } from './order.ts';
import { composeServices, type StackService } from './services.ts';

export type { StackService };

/** The images this node may run, each once, in the stacks' order. */
export function imagesFor(node: SwarmNode, services: readonly StackService[]): string[] {
  return [...new Set(services.filter((s) => s.runs && eligible(node, s.constraints)).map((s) => s.image))];
}

interface PullVars extends StackModes {
  stacks: (InventoryStack & { name: string })[];
  stacks_only: string[];
  stack_images: Record<string, string>;
}

/** Every service of the stacks a run deploys (stacks_only, else all); a file that cannot be read is left to the deploy to report. */
export function inventoryServices(v: PullVars): StackService[] {
  return v.stacks
    .filter((s) => v.stacks_only.length === 0 || v.stacks_only.includes(s.name))
    .flatMap((s) => {
      const read = readInventoryStack(v, s, v.stack_images);
      return read.problems ? [] : composeServices(s.name, read.compose);
    });
}

/** This host as a swarm node, or undefined where it is none (then it pulls nothing). */
export const nodeOf = (h: { name: string; groups: readonly string[]; allVars: Readonly<Record<string, unknown>> }) => swarmNodeOf(h.name, h.groups, h.allVars);

/**
 * The images deploy.ts's targets need on this node: a target's image where
 * its service, found in the inventory's stacks, may run here. A service the
 * inventory's stacks do not define is not pulled ahead (Swarm pulls it, as before).
 */
export function targetImagesFor(node: SwarmNode, services: readonly StackService[], targets: readonly { name: string; image: string }[]): string[] {
  return [...new Set(targets.filter((t) => services.some((s) => s.service === t.name && s.runs && eligible(node, s.constraints))).map((t) => t.image))];
}

/**
 * Images pulled from a registry that a stack of the list serves (LangGraph's
 * from the CI node's registry): on a first run that registry is deployed
 * only after the pulls, so their pull is tried, and a failure leaves the
 * image to Swarm's own pull once the registry runs, as before, instead of
 * failing the run. Same reading as the order check (order.ts).
 */
export function inRunRegistryImages(v: PullVars, nodes: readonly NamedNode[]): Map<string, string> {
  const served: { stack: string; port: number; names: string[] }[] = [];
  for (const s of v.stacks) {
    const read = readInventoryStack(v, s, {});
    if (read.problems) continue;
    for (const p of publishedPorts(s.name, read.compose)) {
      if (!REGISTRY_IMAGE.test(read.compose.services[p.service.slice(s.name.length + 1)]!.image)) continue;
      const taking = new Set(nodesTaking(p, nodes.map((n) => n.node)));
      served.push({ stack: s.name, port: p.port, names: nodes.filter((n) => taking.has(n.node.name)).flatMap((n) => n.names) });
    }
  }
  const out = new Map<string, string>();
  for (const svc of inventoryServices({ ...v, stacks_only: [] })) {
    const reg = registryOf(svc.image);
    const from = reg && served.find((r) => r.port === reg.port && r.names.includes(reg.host));
    if (from) out.set(svc.image, `its registry is served by stack ${from.stack}`);
  }
  return out;
}

/** The inventory's swarm nodes as the order check names them, from a host's view of the inventory. */
export function namedNodes(h: { groupHosts(g: string): readonly string[]; hostVars(host: string): Readonly<Record<string, unknown>> }): NamedNode[] {
  const managers = new Set(h.groupHosts('managers'));
  return [...new Set([...managers, ...h.groupHosts('workers')])].flatMap((name) => {
    const hv = h.hostVars(name);
    const node = swarmNodeOf(name, [managers.has(name) ? 'managers' : 'workers'], hv);
    return node ? [{ node, names: [name, name.split('.')[0]!, ...(typeof hv.ansible_host === 'string' ? [hv.ansible_host] : [])] }] : [];
  });
}
