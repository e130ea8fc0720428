export { databases } from './databases.ts';
export { extensions } from './extensions.ts';
