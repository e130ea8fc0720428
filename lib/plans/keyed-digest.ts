import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey, SCRYPT_COST, type KeyParams as RecordKeyParams } from '../shell/keyed-digest.ts';
import { InputError } from '../shell/errors.ts';
import { Secret } from '../shell/secret.ts';

/**
 * The digests a plan file holds. With a vault passphrase, every one is an
 * HMAC-SHA256 under a key derived from it (scrypt, a fresh salt per plan):
 * a probe output or a file a Secret flows into is then no unkeyed function
 * of that Secret, and the passphrase itself never leaves memory. Why every
 * digest and not only those of tasks known to touch a Secret: a Secret can
 * hide where rigger cannot see it (a file a host already holds, a literal in
 * a .ts file), and a keyed digest costs nothing more. Without a passphrase
 * the digests are plain SHA-256, and a task that touches a Secret gets none:
 * it is decided again at apply (see recorder.ts).
 */
export interface KeyParams extends RecordKeyParams {
  /** An HMAC of a fixed label: tells a wrong passphrase at apply from a stale plan. */
  check: string;
}

const CHECK_LABEL = 'rigger plan key check';
const COST = SCRYPT_COST;

/** Length-prefixed parts: ("ab","c") and ("a","bc") never digest alike. */
function framed(parts: readonly (Buffer | string)[]): Buffer[] {
  return parts.flatMap((part) => {
    const b = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    return [Buffer.from(`${b.length}:`), b];
  });
}

export class Digester {
  readonly #key: Buffer | undefined;
  private constructor(key: Buffer | undefined) {
    this.#key = key;
  }

  /** Plain SHA-256: no passphrase was given. */
  static plain(): Digester {
    return new Digester(undefined);
  }

  /** A new key for a new plan, and the parameters the plan file keeps to derive it again. */
  static create(passphrase: string): { digester: Digester; params: KeyParams } {
    const salt = randomBytes(16);
    const digester = new Digester(deriveKey(passphrase, salt, COST));
    return { digester, params: { kdf: 'scrypt', salt: salt.toString('base64'), ...COST, check: digester.digest(CHECK_LABEL) } };
  }

  /** The key of an existing plan, from its parameters and the passphrase given now. */
  static forPlan(params: KeyParams | null, passphrase: string | undefined, file: string): Digester {
    if (!params) return Digester.plain();
    if (passphrase === undefined) {
      throw new InputError(file, 'the plan was made with a vault passphrase, and its digests are keyed by it: give the same one (--vault-password-file or RIGGER_VAULT_PASSWORD)');
    }
    const digester = new Digester(deriveKey(passphrase, Buffer.from(params.salt, 'base64'), params));
    const expected = Buffer.from(params.check);
    const got = Buffer.from(digester.digest(CHECK_LABEL));
    if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
      throw new InputError(file, 'the vault passphrase given is not the one the plan was made with');
    }
    return digester;
  }

  get keyed(): boolean {
    return this.#key !== undefined;
  }

  /**
   * A value made canonical for digesting: keys sorted, a Secret as its keyed
   * digest, or *** when nothing keys it (a plain digest of a Secret would be
   * an unkeyed function of it; a change to it then goes unnoticed).
   */
  canonical(v: unknown): unknown {
    if (v instanceof Secret) return this.keyed ? { secret: this.digest('secret', v.reveal()) } : '***';
    if (Buffer.isBuffer(v)) return { base64: v.toString('base64') };
    if (Array.isArray(v)) return v.map((x) => this.canonical(x));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, this.canonical((v as Record<string, unknown>)[k])]));
    }
    return v;
  }

  /** `hmac-sha256:HEX` under the plan's key, or `sha256:HEX` without one. */
  digest(...parts: (Buffer | string)[]): string {
    if (this.#key) {
      const h = createHmac('sha256', this.#key);
      for (const b of framed(parts)) h.update(b);
      return `hmac-sha256:${h.digest('hex')}`;
    }
    const h = createHash('sha256');
    for (const b of framed(parts)) h.update(b);
    return `sha256:${h.digest('hex')}`;
  }
}
