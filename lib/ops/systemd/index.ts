export { unit } from './unit.ts';
export { service } from './service.ts';
