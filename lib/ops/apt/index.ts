export { packages, hold } from './packages.ts';
export { repository } from './repository.ts';
