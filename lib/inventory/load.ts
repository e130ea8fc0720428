import { existsSync } from 'node:fs';
import path from 'node:path';
import { vaultPassphraseSource } from '../core/vault.ts';
import { InputError } from '../core/errors.ts';
import { Inventory } from './inventory.ts';
import { loadTsInventory } from './ts-inventory.ts';
import { loadYamlInventory, type LoadOptions } from './yaml-inventory.ts';

export const USER_INVENTORY = 'inventory/hosts.yml';
export const LAB_INVENTORY = 'inventory/lab.yml';
/** Written by `scripts/lab.ts up` for the lab inventory's !vault values; never used with another inventory. */
export const LAB_VAULT_PASSWORD_FILE = '.lab/vault-password';

/**
 * The inventories to use: those given with -i, else the user's own
 * inventory/hosts.yml, else the lab's (written by `scripts/lab.ts up`).
 */
export function defaultInventories(given: string[]): string[] {
  if (given.length > 0) return given;
  if (existsSync(USER_INVENTORY)) return [USER_INVENTORY];
  if (existsSync(LAB_INVENTORY)) return [LAB_INVENTORY];
  throw new InputError(
    'inventory',
    `no inventory: pass -i FILE, write ${USER_INVENTORY} (see inventory/homelab.yml for the format), ` +
      `or start the local lab with \`npx tsx scripts/lab.ts up\``,
  );
}

/**
 * Where the vault passphrase comes from: --vault-password-file, the
 * environment, and, for the lab's inventory alone, the lab's own file.
 */
export function vaultPassphraseFor(files: readonly string[], passwordFile?: string, options: { anyMode?: boolean } = {}): () => string {
  const lab = files.length === 1 && path.resolve(files[0]!) === path.resolve(LAB_INVENTORY);
  return vaultPassphraseSource(passwordFile, lab ? LAB_VAULT_PASSWORD_FILE : undefined, options);
}

export async function loadInventories(files: string[], options: LoadOptions): Promise<Inventory> {
  const inventory = new Inventory();
  for (const file of files) {
    if (/\.[cm]?ts$/.test(file)) {
      if (!existsSync(file)) throw new InputError(file, 'inventory file does not exist');
      await loadTsInventory(file, inventory);
    } else loadYamlInventory(file, inventory, options);
  }
  return inventory;
}
