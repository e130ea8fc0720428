import { randomBytes } from 'node:crypto';
import type { Digester } from './keyed-digest.ts';

/**
 * The commands a task sends are a pure function of its probe output and
 * parameters, but for one thing: the temp file names of file writes, keyed
 * per controller process (ops/files/temp-name.ts) so another user of the
 * host cannot guess them. A plan keys them from a nonce it keeps instead,
 * through the plan's digester (so with a passphrase the key is no function
 * of the file alone): the same task then sends the same bytes at plan and
 * at apply, and the plan can hold a digest of them.
 */
export function newCommandNonce(): string {
  return randomBytes(16).toString('hex');
}

/** The key of the temp file names (ops/files/temp-name.ts keyTempNames), from the plan's nonce. */
export function commandKeyFromPlan(nonce: string, digester: Digester): Buffer {
  return Buffer.from(digester.digest('temp-name key', nonce));
}
