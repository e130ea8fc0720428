import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { InputError } from '../shell/errors.ts';
import { callSite, displayPath, type SourceLocation } from '../shell/location.ts';
import type { Inventory } from './inventory.ts';
import { objectTree } from './tree.ts';
import { readInventoryTree } from './yaml-inventory.ts';

/** The shape of Ansible's YAML inventory, written in TypeScript. */
export interface InventoryGroupSpec {
  hosts?: Record<string, Record<string, unknown> | null>;
  vars?: Record<string, unknown>;
  children?: Record<string, InventoryGroupSpec | null>;
}

export interface InventorySpec {
  [group: string]: InventoryGroupSpec | null;
}

// Symbol.for: tsx may load lib/ twice (ESM and CJS), and both must agree on the marker.
const DEFINED = Symbol.for('rigger.inventory');

export interface DefinedInventory {
  [DEFINED]: { spec: InventorySpec; location: SourceLocation };
}

/** `export default defineInventory({ all: { children: { ... } } })` in inventory/NAME.ts. */
export function defineInventory(spec: InventorySpec): DefinedInventory {
  return { [DEFINED]: { spec, location: callSite() ?? { file: 'inventory', line: 1, col: 1 } } };
}

export async function loadTsInventory(file: string, inventory: Inventory): Promise<void> {
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: DefinedInventory };
  const def = mod.default?.[DEFINED];
  if (!def) throw new InputError(displayPath(file), 'a TypeScript inventory must `export default defineInventory({...})`');
  inventory.sources.push(displayPath(file));
  readInventoryTree(objectTree(def.spec, def.location), inventory);
}
