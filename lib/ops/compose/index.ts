export { project } from './project.ts';
export type { ProjectResult } from './project.ts';
