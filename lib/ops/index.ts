export { command, shell } from './command/command.ts';
export type { CommandResult } from './command/command.ts';
export { copy } from './files/copy.ts';
export { copyTree } from './files/copy-tree.ts';
export { line, block, jsonFile, template, defineTemplate } from './files/edit-ops.ts';
export { file } from './files/file.ts';
export * as apt from './apt/index.ts';
export * as systemd from './systemd/index.ts';
export { mount } from './mount/mount.ts';
export { entry as cron } from './cron/entry.ts';
export * as system from './system/index.ts';
export { rules as firewall } from './firewall/rules.ts';
export { dockerUser } from './firewall/docker-user.ts';
export * as docker from './docker/index.ts';
export * as compose from './compose/index.ts';
export * as podman from './podman/index.ts';
export * as caddy from './caddy/index.ts';
export * as postgres from './postgres/index.ts';
export { assert } from './assert.ts';
export { each } from './each.ts';
// The general-purpose ops a user composes. The package's `ops` namespace
// (lib/public-ops.ts) adds the monitoring and daily-check readings, which
// live with their domains above this layer; the backup and recovery steps
// are imported by their playbooks from lib/backup/ops and lib/recovery/ops.
