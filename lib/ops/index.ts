export { command, shell } from './command/command.ts';
export type { CommandResult } from './command/command.ts';
export { copy } from './files/copy.ts';
export { line, block, jsonFile, template, defineTemplate } from './files/edit-ops.ts';
export { file } from './files/file.ts';
export * as apt from './apt/index.ts';
export * as systemd from './systemd/index.ts';
export { mount } from './mount/mount.ts';
export { entry as cron } from './cron/entry.ts';
