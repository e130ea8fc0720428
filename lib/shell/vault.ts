import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Secret } from './secret.ts';

/**
 * rigger's vault: AES-256-GCM, key derived from a passphrase with scrypt and
 * a per-value salt. A value is one line:
 *   $RIGGER_VAULT;1;<salt b64>;<iv b64>;<ciphertext b64>;<tag b64>
 * written in YAML as `password: !vault $RIGGER_VAULT;1;...`.
 * GCM's tag means a wrong passphrase or a tampered value is detected, never
 * silently decrypted to garbage.
 */
export const VAULT_PREFIX = '$RIGGER_VAULT;1;';
const SCRYPT = { N: 1 << 14, r: 8, p: 1 } as const;
const keyCache = new Map<string, Buffer>();

function deriveKey(passphrase: string, salt: Buffer): Buffer {
  // Keyed by passphrase and salt: a wrong passphrase must never find the right key.
  const id = `${createHash('sha256').update(passphrase).digest('base64')}:${salt.toString('base64')}`;
  let key = keyCache.get(id);
  if (!key) {
    key = scryptSync(passphrase, salt, 32, SCRYPT);
    keyCache.set(id, key);
  }
  return key;
}

export function encryptValue(plaintext: string, passphrase: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', scryptSync(passphrase, salt, 32, SCRYPT), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return VAULT_PREFIX + [salt, iv, body, cipher.getAuthTag()].map((b) => b.toString('base64')).join(';');
}

export class VaultError extends Error {}

/** No passphrase was given anywhere: an optional use of it (a saved plan's key) goes without. */
export class NoPassphraseError extends VaultError {}

export function decryptValue(text: string, passphrase: string): Secret {
  const trimmed = text.replace(/\s+/g, '');
  if (trimmed.startsWith('$ANSIBLE_VAULT')) {
    throw new VaultError('this is an Ansible Vault value; re-encrypt it with `npm run vault -- encrypt`');
  }
  if (!trimmed.startsWith(VAULT_PREFIX)) throw new VaultError(`a vault value must start with ${VAULT_PREFIX}`);
  const parts = trimmed.slice(VAULT_PREFIX.length).split(';');
  if (parts.length !== 4) throw new VaultError('a vault value has 4 fields after the prefix');
  const [salt, iv, body, tag] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer, Buffer];
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(passphrase, salt), iv);
    decipher.setAuthTag(tag);
    return new Secret(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8'));
  } catch {
    throw new VaultError('cannot decrypt: wrong vault passphrase or a damaged value');
  }
}

/**
 * A vault password file's passphrase. Like OpenSSH with a private key, a
 * file that others may read or write is refused: the passphrase opens every
 * secret of the inventory. `anyMode` (--vault-password-file-any-mode) lets
 * it through, for a file system without modes.
 */
function readPasswordFile(path: string, anyMode: boolean): string {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VaultError(code === 'ENOENT' ? `vault password file ${path} does not exist` : `vault password file ${path} cannot be read: ${code ?? (err as Error).message}`);
  }
  if (st.isDirectory()) throw new VaultError(`vault password file ${path} is a directory, not a file`);
  if (!anyMode && (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new VaultError(
      `vault password file ${path} is open to group or others (mode ${mode}); run \`chmod 600 ${path}\`, or pass --vault-password-file-any-mode to use it anyway`,
    );
  }
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VaultError(`vault password file ${path} cannot be read: ${code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message)}`);
  }
}

/**
 * The passphrase, from --vault-password-file, RIGGER_VAULT_PASSWORD_FILE or
 * RIGGER_VAULT_PASSWORD, read only when a vault value is met.
 */
export function vaultPassphraseSource(file?: string, fallbackFile?: string, options: { anyMode?: boolean } = {}): () => string {
  let cached: string | undefined;
  return () => {
    if (cached !== undefined) return cached;
    // The fallback file comes last, after RIGGER_VAULT_PASSWORD, and only when it exists.
    const fallback = process.env.RIGGER_VAULT_PASSWORD || !fallbackFile || !existsSync(fallbackFile) ? undefined : fallbackFile;
    const path = file ?? process.env.RIGGER_VAULT_PASSWORD_FILE ?? fallback;
    if (path) {
      cached = readPasswordFile(path, options.anyMode ?? false);
    } else if (process.env.RIGGER_VAULT_PASSWORD) {
      cached = process.env.RIGGER_VAULT_PASSWORD;
    } else {
      throw new NoPassphraseError(
        'an encrypted value needs a passphrase: pass --vault-password-file FILE or set RIGGER_VAULT_PASSWORD',
      );
    }
    return cached;
  };
}
