export { sysctl } from './sysctl.ts';
export { user, group } from './users.ts';
export { authorizedKey } from './authorized-key.ts';
export { sshdConfig } from './sshd-config.ts';
