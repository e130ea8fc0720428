// `rigger inventory`: what an inventory says, as rigger reads it: every
// group's hosts (--list, the default), one host's merged variables (--host),
// or the group tree (--graph). Secrets print redacted.
// Issue 15's inventory tool will take this subcommand's place: this file only
// parses the flags and prints, so it can point at that code when it lands.
import { parseArgs } from 'node:util';
import { InputError } from '../../core/errors.ts';
import { defaultInventories, loadInventories, vaultPassphraseFor } from '../../inventory/load.ts';
import type { Inventory } from '../../inventory/inventory.ts';

function list(inv: Inventory): unknown {
  const groups = Object.fromEntries([...inv.groups.keys()].map((g) => [g, { hosts: inv.hostsOf(g) }]));
  const hostvars = Object.fromEntries(inv.hostNames().map((h) => [h, Object.fromEntries([...inv.varsFor(h)].map(([k, v]) => [k, v.value]))]));
  return { all: { hosts: inv.hostNames() }, ...groups, _meta: { hostvars } };
}

function graph(inv: Inventory, group = 'all', depth = 0): string[] {
  const pad = '  '.repeat(depth);
  const children = [...inv.groups.values()].filter((g) => g.name !== group && (g.parents.has(group) || (group === 'all' && g.parents.size === 0))).map((g) => g.name);
  const direct = group === 'all' ? [] : [...(inv.group(group)?.hosts ?? [])];
  return [`${pad}@${group}:`, ...children.flatMap((c) => graph(inv, c, depth + 1)), ...direct.map((h) => `${pad}  ${h}`)];
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      inventory: { type: 'string', short: 'i', multiple: true },
      list: { type: 'boolean' },
      host: { type: 'string' },
      graph: { type: 'boolean' },
      'vault-password-file': { type: 'string' },
    },
  });
  const files = defaultInventories(values.inventory ?? []);
  const inv = await loadInventories(files, { vaultPassphrase: vaultPassphraseFor(files, values['vault-password-file']) });
  if (values.graph) {
    process.stdout.write(graph(inv).join('\n') + '\n');
  } else if (values.host !== undefined) {
    if (!inv.hosts.has(values.host)) throw new InputError('command line', `no host ${JSON.stringify(values.host)} in ${files.join(', ')}`);
    process.stdout.write(JSON.stringify(Object.fromEntries([...inv.varsFor(values.host)].map(([k, v]) => [k, v.value])), null, 2) + '\n');
  } else {
    process.stdout.write(JSON.stringify(list(inv), null, 2) + '\n');
  }
  return 0;
}
