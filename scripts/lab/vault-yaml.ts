import { Document, Scalar } from 'yaml';
import { encryptValue } from '../../lib/shell/vault.ts';

/** A value the lab writes into an inventory as `!vault` (encrypted when the document is written). */
export class VaultValue {
  constructor(readonly plain: string) {}
}

export const vault = (plain: string) => new VaultValue(plain);

/**
 * data as a YAML document, each vault(...) value a `!vault` scalar encrypted
 * with passphrase: the lab's inventories keep their passwords as an operator's
 * would (the loader decrypts them), never as plain text in a file.
 */
export function yamlWithVault(data: unknown, passphrase: string): string {
  const doc = new Document(data, (_key, value) => {
    if (!(value instanceof VaultValue)) return value;
    const scalar = new Scalar(encryptValue(value.plain, passphrase));
    scalar.tag = '!vault';
    return scalar;
  });
  return doc.toString();
}
