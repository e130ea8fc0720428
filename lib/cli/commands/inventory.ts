// `rigger inventory`: what an inventory says, as `ansible-inventory` prints
// it (--list, the default; --graph [GROUP]; --host NAME). The logic is the
// inventory tool's own (lib/inventory/inventory-command.ts, also behind
// scripts/inventory.ts); this adds only rigger's defaults: the inventory the
// playbooks would use when no -i is given, and --list when no action is.
import { defaultInventories } from '../../inventory/load.ts';
import { inventoryCommand } from '../../inventory/inventory-command.ts';

export async function main(args: string[]): Promise<number> {
  const argv = [...args];
  if (!argv.some((a) => a === '--list' || a === '--graph' || a === '--host' || a.startsWith('--host=') || a === '-h' || a === '--help')) argv.push('--list');
  if (!argv.some((a) => a === '-i' || a === '--inventory' || a.startsWith('--inventory=') || /^-i./.test(a))) {
    for (const file of defaultInventories([])) argv.push('-i', file);
  }
  const out = await inventoryCommand(argv);
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  return out.code;
}
