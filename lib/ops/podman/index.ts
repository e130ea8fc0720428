export { quadlet, serviceOf, QUADLET_DIR } from './quadlet.ts';
export type { QuadletResult } from './quadlet.ts';
