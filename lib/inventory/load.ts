import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { vaultPassphraseSource } from '../shell/vault.ts';
import { InputError } from '../shell/errors.ts';
import { Inventory } from './inventory.ts';
import { loadTsInventory } from './ts-inventory.ts';
import { loadIniInventory, reconcileGroups } from './ini-inventory.ts';
import { loadVarsDirs, loadYamlInventory, type LoadOptions } from './yaml-inventory.ts';

export const USER_INVENTORY = 'inventory/hosts.yml';
export const LAB_INVENTORY = 'inventory/lab.yml';
/** Written by `scripts/lab.ts up` for the lab inventory's !vault values; never used with another inventory. */
export const LAB_VAULT_PASSWORD_FILE = '.lab/vault-password';
/** The inventories `scripts/lab.ts` writes (up, and up --layouts): the only ones that use the lab's passphrase file. */
const LAB_INVENTORIES = [LAB_INVENTORY, 'inventory/lab-core-edge.yml', 'inventory/lab-single-server.yml'];

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
  const lab = files.length === 1 && LAB_INVENTORIES.some((f) => path.resolve(files[0]!) === path.resolve(f));
  return vaultPassphraseSource(passwordFile, lab ? LAB_VAULT_PASSWORD_FILE : undefined, options);
}

/**
 * The format of an inventory file, as Ansible picks it: TypeScript by its
 * extension, YAML for .yml/.yaml/.json, INI otherwise, except a file whose
 * first line is a YAML key (`all:`), which no INI host line can be.
 */
export function inventoryFormat(file: string): 'ts' | 'yaml' | 'ini' {
  if (/\.[cm]?ts$/.test(file)) return 'ts';
  if (/\.(ya?ml|json)$/.test(file)) return 'yaml';
  if (!existsSync(file)) return 'ini';
  const first = readFileSync(file, 'utf8').split('\n').find((l) => l.trim() !== '' && !/^\s*[#;]/.test(l));
  return first !== undefined && (/^[\w.-]+:\s*(#.*)?$/.test(first) || first.trim() === '---') ? 'yaml' : 'ini';
}

export async function loadInventories(files: string[], options: LoadOptions): Promise<Inventory> {
  const inventory = new Inventory();
  for (const file of files) {
    const format = inventoryFormat(file);
    if (format === 'ts') {
      if (!existsSync(file)) throw new InputError(file, 'inventory file does not exist');
      await loadTsInventory(file, inventory);
    } else if (format === 'ini') loadIniInventory(file, inventory, options);
    else loadYamlInventory(file, inventory, options);
  }
  reconcileGroups(inventory);
  return inventory;
}

/** group_vars/ and host_vars/ beside the playbook, above those beside the inventory (Ansible's precedence). */
export function loadPlaybookVars(playbookDir: string, inventory: Inventory, options: LoadOptions): void {
  loadVarsDirs(playbookDir, inventory, options, 'playVars');
}
