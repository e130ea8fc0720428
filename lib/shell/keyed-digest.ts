import { createHmac, randomBytes, scryptSync } from 'node:crypto';

/**
 * A digest keyed from the vault passphrase: HMAC-SHA256 under a key that
 * scrypt derives from the passphrase and a salt stored beside the digests.
 * What a record or plan keeps of a secret (to tell that it changed) is then
 * no unkeyed function of it: without the passphrase it cannot be checked
 * against a guess. The passphrase itself never leaves memory.
 */
export interface KeyParams {
  kdf: 'scrypt';
  /** base64 */
  salt: string;
  N: number;
  r: number;
  p: number;
}

/** scrypt's cost: about 0.1 s and 32 MiB, once per run record or plan that holds a secret. */
export const SCRYPT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;

/** The 32-byte HMAC key scrypt derives from the passphrase, a salt and a cost: one derivation for run records and plans alike. */
export function deriveKey(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase, salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r });
}

export class KeyedDigest {
  readonly #key: Buffer;
  private constructor(
    key: Buffer,
    readonly params: KeyParams,
  ) {
    this.#key = key;
  }

  /** A fresh salt for a new record. */
  static create(passphrase: string): KeyedDigest {
    return KeyedDigest.from({ kdf: 'scrypt', salt: randomBytes(16).toString('base64'), ...SCRYPT_COST }, passphrase);
  }

  /** The key of stored digests, derived again from their parameters and the passphrase given now. */
  static from(params: KeyParams, passphrase: string): KeyedDigest {
    const key = deriveKey(passphrase, Buffer.from(params.salt, 'base64'), params);
    return new KeyedDigest(key, params);
  }

  /** `hmac-sha256:HEX` of the text. */
  digest(text: string): string {
    return `hmac-sha256:${createHmac('sha256', this.#key).update(text).digest('hex')}`;
  }
}
