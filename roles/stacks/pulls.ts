// Which images a swarm node pulls before a deploy: those of the services its
// placement allows there (placement.ts, the reading preflight's port check
// uses), read from the inventory's stacks as the stacks role deploys them.
// A replicated task may land on any eligible node, so each of them pulls.
import type { Compose } from 'rigger-ops/lib/ops/docker/compose';
import { readInventoryStack, type InventoryStack, type StackModes } from './read.ts';
import { eligible, swarmNodeOf, type SwarmNode } from './placement.ts';

export interface StackService {
  /** STACK_SERVICE, the name Swarm gives it. */
  service: string;
  image: string;
  constraints: string[];
  /** A replicated service scaled to 0 runs nowhere. */
  runs: boolean;
}

export function stackServices(stack: string, compose: Compose): StackService[] {
  return Object.entries(compose.services).map(([name, svc]) => ({
    service: `${stack}_${name}`,
    image: svc.image,
    constraints: svc.deploy?.placement?.constraints ?? [],
    runs: svc.deploy?.mode === 'global' || svc.deploy?.replicas !== 0,
  }));
}

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
      return read.problems ? [] : stackServices(s.name, read.compose);
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
