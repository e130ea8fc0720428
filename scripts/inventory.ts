// Shows inventories as ansible-inventory does (the logic is lib/inventory/inventory-command.ts):
//   npx tsx scripts/inventory.ts -i inventory/hosts.yml -i extra.ini --list | --graph [GROUP] | --host NAME
import { inventoryCommand } from '../lib/inventory/inventory-command.ts';

const out = await inventoryCommand(process.argv.slice(2));
process.stdout.write(out.stdout);
process.stderr.write(out.stderr);
process.exitCode = out.code;
