import { InputError } from '../shell/errors.ts';
import { emptyLayer, type GroupDef, type HostDef, type VarLayer, type VarValue } from './model.ts';

/**
 * Hosts, groups and their variables, merged from one or more sources.
 * Host order is the order of first appearance, which is the order plays
 * run hosts in and `--list-hosts` prints them.
 */
export class Inventory {
  readonly hosts = new Map<string, HostDef>();
  readonly groups = new Map<string, GroupDef>();
  readonly sources: string[] = [];

  group(name: string): GroupDef | undefined {
    return this.groups.get(name);
  }

  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  /** Every group a host belongs to, directly or through children, with 'all'. */
  groupsOf(host: string): Set<string> {
    const result = new Set<string>(['all']);
    const visit = (g: string) => {
      if (result.has(g) && g !== 'all') return;
      result.add(g);
      for (const parent of this.groups.get(g)?.parents ?? []) visit(parent);
    };
    for (const g of this.groups.values()) if (g.hosts.has(host)) visit(g.name);
    return result;
  }

  /** Hosts of a group, including those of its children, in inventory order. */
  hostsOf(group: string): string[] {
    if (group === 'all') return this.hostNames();
    const members = new Set<string>();
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const g = this.groups.get(name);
      if (!g) return;
      for (const h of g.hosts) members.add(h);
      for (const c of g.children) visit(c);
    };
    visit(group);
    return this.hostNames().filter((h) => members.has(h));
  }

  /** Depth of a group below 'all': children override their parents' vars. */
  depth(group: string, seen: Set<string> = new Set()): number {
    if (group === 'all') return 0;
    if (seen.has(group)) return 0;
    seen.add(group);
    const parents = [...(this.groups.get(group)?.parents ?? [])].filter((p) => p !== 'all');
    if (parents.length === 0) return 1;
    return 1 + Math.max(...parents.map((p) => this.depth(p, seen)));
  }

  /**
   * The layers of a host's inventory variables, lowest precedence first, in
   * Ansible's order: all's inventory vars, group_vars/all beside the
   * inventory, then beside the playbook; the other groups' inventory vars
   * (by depth: parent < child; siblings by ansible_group_priority then
   * name), their group_vars/ beside the inventory, then beside the
   * playbook; the host's inventory vars, host_vars/ beside the inventory,
   * then beside the playbook.
   */
  layersFor(host: string): VarLayer[] {
    const def = this.hosts.get(host);
    if (!def) throw new InputError(undefined, `no host named ${host} in the inventory`);
    const groups = [...this.groupsOf(host)]
      .map((name) => this.groups.get(name))
      .filter((g): g is GroupDef => g !== undefined)
      .sort((a, b) => {
        const d = this.depth(a.name) - this.depth(b.name);
        if (d !== 0) return d;
        const p = priority(a) - priority(b);
        if (p !== 0) return p;
        return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      });
    const all = groups.filter((g) => g.name === 'all');
    const others = groups.filter((g) => g.name !== 'all');
    const layers = (gs: GroupDef[]) => [...gs.map((g) => g.vars), ...gs.map((g) => g.fileVars), ...gs.map((g) => g.playVars ?? emptyLayer())];
    return [...layers(all), ...layers(others), def.vars, def.fileVars, def.playVars ?? emptyLayer()];
  }

  /** A host's inventory variables merged (later layers replace earlier ones, as Ansible's default). */
  varsFor(host: string): Map<string, VarValue> {
    return mergeLayers(this.layersFor(host));
  }
}

function priority(g: GroupDef): number {
  const v = g.vars.get('ansible_group_priority')?.value ?? g.fileVars.get('ansible_group_priority')?.value;
  return typeof v === 'number' ? v : 1;
}

export function mergeLayers(layers: readonly VarLayer[]): Map<string, VarValue> {
  const out = new Map<string, VarValue>();
  for (const layer of layers) for (const [k, v] of layer) out.set(k, v);
  return out;
}
