// The stacks of the inventory's `stacks` list read as the stacks role deploys
// them: one environment for ${VAR} and one reading (renderStack), shared by the
// role, the order check at inventory load, and preflight's port check.
import { renderStack, type RenderedStack } from 'rigger-ops/lib/ops/docker/stack-file';

export interface InventoryStack {
  name: string;
  file: string;
  env: Record<string, string>;
}

export interface StackModes {
  service_endpoint_mode: 'vip' | 'dnsrr';
  service_publish_mode: 'ingress' | 'host';
}

/** What a stack's compose file is interpolated with: the swarm modes, then the stack's own env. */
export const stackEnv = (v: StackModes, s: InventoryStack): Record<string, string> => ({ ENDPOINT_MODE: v.service_endpoint_mode, PUBLISH_MODE: v.service_publish_mode, ...s.env });

/** One stack of the list, rendered as `docker stack deploy` receives it. */
export const readInventoryStack = (v: StackModes, s: InventoryStack, images: Readonly<Record<string, string>>): RenderedStack => renderStack({ file: s.file, env: stackEnv(v, s), images });
