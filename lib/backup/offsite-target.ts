import { Secret } from '../shell/secret.ts';
import { obscure } from './rclone-obscure.ts';

/** Where rigger writes rclone's config (0600) when the inventory gives one or asks for encryption. */
export const RCLONE_CONFIG = '/etc/rigger/rclone.conf';

/** The crypt remote rigger adds to that config, wrapping backup_offsite.remote. */
export const CRYPT_REMOTE = 'rigger-offsite-crypt';

export interface OffsiteVars {
  remote: string;
  rclone_config?: Secret | undefined;
}

export interface CryptKeys {
  password: Secret;
  salt: Secret;
}

/** What every off-site call uses: the remote it names, the config (if rigger writes one) and its content. */
export interface OffsiteTarget {
  /** The remote the copy, the listing and the fetch name: the crypt remote when the keys are set. */
  remote: string;
  /** The config file's path when rigger writes one, else rclone's own config is used. */
  config?: string;
  /** The config file's content: the inventory's rclone_config, then the crypt remote. */
  content?: Secret;
  /** Local directories the remote itself is (a path remote, or the path a crypt remote wraps). */
  mounts: string[];
  encrypted: boolean;
}

/**
 * The crypt section: file names and directory names encrypted as well as
 * the content (rclone's `standard` names), so the remote shows neither
 * what was backed up nor when. rclone reads the password and the salt
 * ("password2") only in obscured form; the obscured values are secrets as
 * well (rclone reveals them), registered so every output redacts them.
 */
function cryptSection(remote: string, keys: CryptKeys): string {
  const password = new Secret(obscure(keys.password.reveal()));
  const salt = new Secret(obscure(keys.salt.reveal()));
  return [
    `[${CRYPT_REMOTE}]`,
    'type = crypt',
    `remote = ${remote}`,
    'filename_encryption = standard',
    'directory_name_encryption = true',
    `password = ${password.reveal()}`,
    `password2 = ${salt.reveal()}`,
    '',
  ].join('\n');
}

/**
 * The target for a host's backup_offsite and crypt keys: unencrypted as
 * before without keys; with both, every call goes through the crypt remote.
 * One key without the other is refused (a salt alone would look encrypted
 * and be readable).
 */
export function offsiteTarget(o: OffsiteVars, password?: Secret, salt?: Secret, configPath = RCLONE_CONFIG): OffsiteTarget | { problem: string } {
  if ((password === undefined) !== (salt === undefined)) {
    return { problem: 'give both backup_offsite_crypt_password and backup_offsite_crypt_salt (!vault values), or neither' };
  }
  if (/[\r\n]/.test(o.remote)) return { problem: 'backup_offsite.remote must be one line' };
  const mounts = o.remote.startsWith('/') ? [o.remote] : [];
  if (password === undefined || salt === undefined) {
    return o.rclone_config === undefined
      ? { remote: o.remote, mounts, encrypted: false }
      : { remote: o.remote, config: configPath, content: o.rclone_config, mounts, encrypted: false };
  }
  const base = o.rclone_config === undefined ? '' : `${o.rclone_config.reveal().replace(/\n*$/, '')}\n\n`;
  return { remote: `${CRYPT_REMOTE}:`, config: configPath, content: Secret.unlisted(base + cryptSection(o.remote, { password, salt })), mounts, encrypted: true };
}

/** A path under a remote: `remote:` and `remote:dir` both take a relative path. */
export function remotePath(remote: string, sub: string): string {
  return remote.endsWith(':') ? `${remote}${sub}` : `${remote.replace(/\/+$/, '')}/${sub}`;
}
