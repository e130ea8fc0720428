export * as swarm from './swarm.ts';
export { network } from './network.ts';
export { secret } from './secret.ts';
export { stack } from './stack.ts';
export type { StackResult } from './stack.ts';
export { parseCompose, interpolate, externalNetworks, externalSecrets } from './compose.ts';
export { serviceHealth, healthTable, allHealthy, healthCheckSchema } from './health.ts';
export type { ServiceHealth } from './health.ts';
