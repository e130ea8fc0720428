export { command, shell } from './command/command.ts';
export type { CommandResult } from './command/command.ts';
export { copy } from './files/copy.ts';
export { file } from './files/file.ts';
