// The stacks are deployed in list order, as Ansible runs a list: a stack
// whose images come from a registry that another stack of the list serves
// (LangGraph's image from the CI node's registry) must come after it, or
// its first deploy waits out its limit on a pull that cannot succeed. Such a
// list is refused when the inventory is loaded, at the line of the entry,
// rather than reordered behind the operator's back.
import { readFileSync } from 'node:fs';
import { InputError } from 'rigger-ops';
import type { SourceLocation } from 'rigger-ops/lib/shell/location';
import { isSeq, LineCounter, parseDocument, type Node } from 'rigger-ops/lib/shell/yaml';
import type { PlaybookContext } from 'rigger-ops/lib/runner/playbook-context';
import { readInventoryStack, type InventoryStack, type StackModes } from './read.ts';
import { nodesTaking, publishedPorts, swarmNodeOf, type SwarmNode } from './placement.ts';

/** A swarm node and the names an image reference may reach it by (inventory name, short name, ansible_host). */
export interface NamedNode {
  node: SwarmNode;
  names: string[];
}

export interface OrderVars extends StackModes {
  stacks: InventoryStack[];
  stack_images: Record<string, string>;
}

/** Docker's registry (distribution) image, under any tag or digest: what serves images to the others. */
export const REGISTRY_IMAGE = /^(?:(?:docker\.io|registry-1\.docker\.io)\/)?(?:library\/registry|registry|distribution\/distribution)(?:[:@].*)?$/;

/** The registry host and port an image is pulled from, or undefined for Docker Hub (a first part with no dot, colon, or localhost). */
export function registryOf(image: string): { host: string; port: number } | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  if (!/[.:]/.test(first) && first !== 'localhost') return undefined;
  const colon = first.lastIndexOf(':');
  return colon < 0 ? { host: first, port: 443 } : { host: first.slice(0, colon), port: Number(first.slice(colon + 1)) };
}

export interface OrderProblem {
  /** The entry of `stacks` that is listed too early. */
  index: number;
  message: string;
}

/** Each stack listed before a stack whose registry it pulls from. */
export function stackOrderProblems(v: OrderVars, nodes: readonly NamedNode[]): OrderProblem[] {
  // The registries each stack serves: its registry services' published ports, on the nodes that take them.
  const served: { index: number; service: string; port: number; names: string[] }[] = [];
  const images: { index: number; service: string; image: string }[] = [];
  v.stacks.forEach((s, index) => {
    // Declared images (the registry is known by its real image); pulls go where stack_images sends them.
    const read = readInventoryStack(v, s, {});
    if (read.problems) return; // the stack op reports an unreadable file with its own line
    for (const p of publishedPorts(s.name, read.compose)) {
      const svc = read.compose.services[p.service.slice(s.name.length + 1)]!;
      if (!REGISTRY_IMAGE.test(svc.image)) continue;
      const taking = new Set(nodesTaking(p, nodes.map((n) => n.node)));
      served.push({ index, service: p.service, port: p.port, names: nodes.filter((n) => taking.has(n.node.name)).flatMap((n) => n.names) });
    }
    for (const [name, svc] of Object.entries(read.compose.services)) images.push({ index, service: `${s.name}_${name}`, image: v.stack_images[svc.image] ?? svc.image });
  });
  const problems: OrderProblem[] = [];
  for (const i of images) {
    const reg = registryOf(i.image);
    if (!reg) continue;
    const from = served.find((r) => r.index > i.index && r.port === reg.port && r.names.includes(reg.host));
    if (!from || problems.some((p) => p.index === i.index)) continue;
    const [me, them] = [v.stacks[i.index]!.name, v.stacks[from.index]!.name];
    problems.push({
      index: i.index,
      message: `stack ${me} is deployed before stack ${them}, but ${i.service}'s image ${i.image} comes from the registry ${them} serves (${from.service} on port ${from.port}): list ${them} before ${me} (stacks deploy in list order)`,
    });
  }
  return problems;
}

/** The line of item `index` of the YAML sequence that starts at `list`, when the inventory is a YAML file. */
function itemLocation(list: SourceLocation | string | undefined, index: number): SourceLocation | string | undefined {
  if (!list || typeof list === 'string') return list;
  try {
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(list.file, 'utf8'), { lineCounter: lines });
    let found: SourceLocation | undefined;
    const visit = (node: unknown): void => {
      if (found || !node || typeof node !== 'object') return;
      const n = node as Node & { items?: unknown[] };
      if (isSeq(n) && n.range) {
        const at = lines.linePos(n.range[0]);
        const item = n.items[index] as Node | undefined;
        if (at.line === list.line && at.col === list.col && item?.range) {
          const pos = lines.linePos(item.range[0]);
          found = { file: list.file, line: pos.line, col: pos.col };
          return;
        }
      }
      for (const child of n.items ?? []) {
        const pair = child as { key?: unknown; value?: unknown };
        if (pair && typeof pair === 'object' && 'value' in pair) visit(pair.value);
        else visit(child);
      }
    };
    visit(doc.contents);
    return found ?? list;
  } catch {
    return list;
  }
}

/**
 * Refuses, before any host is contacted, an inventory whose `stacks` list
 * deploys a stack before the stack serving its images' registry, naming the
 * entry's file:line. Read from the first manager's variables, the host the
 * stacks role deploys from.
 */
export function checkStackOrder(ctx: PlaybookContext): void {
  const manager = ctx.inventory.hostsOf('managers')[0];
  if (!manager) return;
  const raw = ctx.hostVars(manager);
  if (!Array.isArray(raw.stacks) || raw.stacks.length === 0) return;
  const vars: OrderVars = {
    stacks: (raw.stacks as { name: string; file: string; env?: Record<string, unknown> }[]).map((s) => ({ name: String(s.name), file: String(s.file), env: Object.fromEntries(Object.entries(s.env ?? {}).map(([k, x]) => [k, String(x)])) })),
    stack_images: (raw.stack_images ?? {}) as Record<string, string>,
    service_endpoint_mode: raw.service_endpoint_mode === 'dnsrr' ? 'dnsrr' : 'vip',
    service_publish_mode: raw.service_publish_mode === 'host' ? 'host' : 'ingress',
  };
  const nodes = ctx.inventory.hostNames().flatMap((name) => {
    const hv = ctx.hostVars(name);
    const node = swarmNodeOf(name, [...ctx.inventory.groupsOf(name)], hv);
    return node ? [{ node, names: [name, name.split('.')[0]!, ...(typeof hv.ansible_host === 'string' ? [hv.ansible_host] : [])] }] : [];
  });
  const [first] = stackOrderProblems(vars, nodes);
  if (first) throw new InputError(itemLocation(ctx.inventory.varsFor(manager).get('stacks')?.origin, first.index), first.message);
}
