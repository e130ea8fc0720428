export { databases } from './databases.ts';
