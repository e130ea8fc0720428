// The services of the inventory's stacks, as STACK_SERVICE with the replicas
// their files give: what playbooks/scale.ts may scale, and what --clear
// restores (the count the next stack deploy would set anyway).
import { InputError } from 'rigger-ops';
import type { PlaybookContext } from 'rigger-ops/lib/runner/playbook-context';
import type { Compose } from 'rigger-ops/lib/ops/docker/compose';
import { readInventoryStack, type InventoryStack, type StackModes } from './read.ts';

export interface StackServiceVars extends StackModes {
  stacks: InventoryStack[];
  stack_images: Record<string, string>;
}

export interface InventoryService {
  /** STACK_SERVICE. */
  name: string;
  /** The file's deploy.replicas (Docker's default, 1, when it gives none). */
  replicas: number;
  global: boolean;
}

/** One service of a stack file as the stacks role deploys it: what scale.ts and the pulls before a deploy read. */
export interface StackService {
  /** STACK_SERVICE, the name Swarm gives it. */
  service: string;
  image: string;
  constraints: string[];
  /** The file's deploy.replicas (Docker's default, 1, when it gives none). */
  replicas: number;
  global: boolean;
  /** A replicated service scaled to 0 runs nowhere. */
  runs: boolean;
}

/** The services of one rendered stack file. */
export function composeServices(stack: string, compose: Compose): StackService[] {
  return Object.entries(compose.services).map(([name, svc]) => {
    const global = svc.deploy?.mode === 'global';
    const replicas = svc.deploy?.replicas ?? 1;
    return { service: `${stack}_${name}`, image: svc.image, constraints: svc.deploy?.placement?.constraints ?? [], replicas, global, runs: global || replicas !== 0 };
  });
}

/** Every service of every stack; a file that cannot be read is an input error naming it. */
export function stackServices(v: StackServiceVars): InventoryService[] {
  return v.stacks.flatMap((s) => {
    const read = readInventoryStack(v, s, v.stack_images);
    if (read.problems) throw new InputError('inventory', `stack ${s.name}: ${read.problems.map((p) => p.message).join('; ')}`);
    return composeServices(s.name, read.compose).map((x) => ({ name: x.service, replicas: x.replicas, global: x.global }));
  });
}

/** The stacks variables of the first manager (where the stacks role deploys them), read as the stacks role reads them. */
export function stackServiceVars(ctx: PlaybookContext): StackServiceVars {
  const manager = ctx.inventory.hostsOf('managers')[0];
  if (!manager) throw new InputError('inventory', 'no host in group managers: the stacks are deployed from the first manager');
  const raw = ctx.hostVars(manager);
  const list = Array.isArray(raw.stacks) ? (raw.stacks as { name: string; file: string; env?: Record<string, unknown> }[]) : [];
  return {
    ...raw,
    stacks: list.map((s) => ({ name: String(s.name), file: String(s.file), env: Object.fromEntries(Object.entries(s.env ?? {}).map(([k, x]) => [k, String(x)])) })),
    stack_images: (raw.stack_images ?? {}) as Record<string, string>,
    service_endpoint_mode: raw.service_endpoint_mode === 'dnsrr' ? 'dnsrr' : 'vip',
    service_publish_mode: raw.service_publish_mode === 'host' ? 'host' : 'ingress',
  };
}
