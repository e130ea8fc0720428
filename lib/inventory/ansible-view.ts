import { randomBytes } from 'node:crypto';
import { Secret } from '../shell/secret.ts';
import type { Inventory } from './inventory.ts';
import { VaultText } from './yaml-nodes.ts';

/**
 * The inventory as `ansible-inventory` prints it: --list (groups with their
 * direct hosts and children, every host's merged variables under
 * _meta.hostvars), --graph (the tree), --host (one host's variables). A
 * host in no group but all is in `ungrouped`, as Ansible puts it there.
 * A !vault value is shown as Ansible shows one: {"__ansible_vault": text}.
 */
export const UNGROUPED = 'ungrouped';

function plain(value: unknown): unknown {
  if (value instanceof VaultText) return { __ansible_vault: value.text };
  // A value decrypted at load time has no ciphertext left to show.
  if (value instanceof Secret) return { __ansible_vault: '***' };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Keys sorted at every level, as Python's json.dumps(sort_keys=True). */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function hostVariables(inventory: Inventory, host: string): Record<string, unknown> {
  return Object.fromEntries([...inventory.varsFor(host)].map(([k, v]) => [k, plain(v.value)]));
}

function ungroupedHosts(inventory: Inventory): string[] {
  return inventory.hostNames().filter((h) => [...inventory.groupsOf(h)].every((g) => g === 'all' || g === UNGROUPED));
}

/** A group's child groups in Ansible's order: ungrouped first under all (Ansible creates it first). */
function childrenOf(inventory: Inventory, group: string): string[] {
  const kids = [...(inventory.groups.get(group)?.children ?? [])].filter((c) => c !== UNGROUPED);
  return group === 'all' ? [UNGROUPED, ...kids] : kids;
}

function directHosts(inventory: Inventory, group: string): string[] {
  if (group === UNGROUPED) return ungroupedHosts(inventory);
  const hosts = inventory.groups.get(group)?.hosts ?? new Set<string>();
  return inventory.hostNames().filter((h) => hosts.has(h));
}

export function inventoryList(inventory: Inventory): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const visit = (group: string) => {
    const entry: Record<string, string[]> = {};
    const hosts = group === 'all' ? [] : directHosts(inventory, group);
    const children = childrenOf(inventory, group);
    if (hosts.length > 0) entry.hosts = hosts;
    if (children.length > 0) entry.children = children;
    if (Object.keys(entry).length > 0) out[group] = entry;
    for (const c of children) {
      if (seen.has(c)) continue;
      seen.add(c);
      visit(c);
    }
  };
  visit('all');
  const hostvars: Record<string, unknown> = {};
  for (const h of inventory.hostNames()) {
    const vars = hostVariables(inventory, h);
    if (Object.keys(vars).length > 0) hostvars[h] = vars;
  }
  return sorted({ _meta: { hostvars }, ...out }) as Record<string, unknown>;
}

export function inventoryGraph(inventory: Inventory, group = 'all'): string {
  const lines: string[] = [];
  const name = (text: string, depth: number) => (depth > 0 ? '  |'.repeat(depth) + '--' + text : text);
  const visit = (g: string, depth: number) => {
    lines.push(name(`@${g}:`, depth));
    for (const c of childrenOf(inventory, g)) visit(c, depth + 1);
    if (g !== 'all') for (const h of directHosts(inventory, g)) lines.push(name(h, depth + 1));
  };
  visit(group, 0);
  return lines.join('\n') + '\n';
}

export function inventoryHost(inventory: Inventory, host: string): Record<string, unknown> {
  return sorted(hostVariables(inventory, host)) as Record<string, unknown>;
}

/**
 * JSON as ansible-inventory prints it: 4-space indent, keys sorted, and a
 * YAML `.inf` or `.nan` written as Python's json writes them (bare
 * Infinity, -Infinity, NaN) where JSON.stringify would write null.
 */
export function ansibleJson(value: unknown): string {
  // A random mark, so no string of the inventory can be taken for one of these numbers.
  const mark = `rigger-number-${randomBytes(8).toString('hex')}:`;
  const text = JSON.stringify(sorted(value), (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? mark + String(v) : v), 4);
  return text.replaceAll(new RegExp(`"${mark}(-?Infinity|NaN)"`, 'g'), '$1') + '\n';
}
