import { parseArgs } from 'node:util';
import { ExitCode, InputError } from '../shell/errors.ts';
import { ansibleJson, inventoryGraph, inventoryHost, inventoryList } from './ansible-view.ts';
import { loadInventories, loadPlaybookVars } from './load.ts';
import { KEEP_VAULT_TEXT } from './yaml-nodes.ts';

export const INVENTORY_USAGE = `Usage: inventory -i FILE [-i FILE...] (--list | --graph [GROUP] | --host NAME) [--playbook-dir DIR]
  --list          every group and host, with each host's merged variables (ansible-inventory --list)
  --graph [GROUP] the group tree (ansible-inventory --graph)
  --host NAME     one host's merged variables (ansible-inventory --host)
  --playbook-dir  also read group_vars/ and host_vars/ beside a playbook there
Inventories may be YAML (.yml, .yaml, .json), INI (any other name) or TypeScript (.ts), mixed.
!vault values are shown as {"__ansible_vault": "..."}, never decrypted.
`;

export interface CommandOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * What `ansible-inventory` does, for rigger's inventories: the logic behind
 * scripts/inventory.ts, kept here so a CLI can offer it as a subcommand.
 */
export async function inventoryCommand(argv: string[]): Promise<CommandOutput> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        inventory: { type: 'string', short: 'i', multiple: true },
        list: { type: 'boolean' },
        graph: { type: 'boolean' },
        host: { type: 'string' },
        'playbook-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return { stdout: INVENTORY_USAGE, stderr: '', code: ExitCode.ok };
    const actions = [values.list, values.graph, values.host !== undefined].filter(Boolean).length;
    if (actions !== 1) throw new InputError('arguments', 'give exactly one of --list, --graph or --host NAME');
    if (positionals.length > (values.graph ? 1 : 0)) throw new InputError('arguments', `unexpected argument ${positionals[values.graph ? 1 : 0]}`);
    const files = (values.inventory ?? []).flatMap((f) => f.split(',').filter((x) => x !== ''));
    if (files.length === 0) throw new InputError('arguments', 'give at least one inventory with -i FILE');
    const options = { vaultPassphrase: KEEP_VAULT_TEXT };
    const inventory = await loadInventories(files, options);
    if (values['playbook-dir']) loadPlaybookVars(values['playbook-dir'], inventory, options);
    if (values.list) return { stdout: ansibleJson(inventoryList(inventory)), stderr: '', code: ExitCode.ok };
    if (values.graph) {
      const group = positionals[0] ?? 'all';
      if (!inventory.groups.has(group) && group !== 'ungrouped') throw new InputError('arguments', `no group named ${group} in the inventory`);
      return { stdout: inventoryGraph(inventory, group), stderr: '', code: ExitCode.ok };
    }
    if (!inventory.hosts.has(values.host!)) throw new InputError('arguments', `no host named ${values.host} in the inventory`);
    return { stdout: ansibleJson(inventoryHost(inventory, values.host!)), stderr: '', code: ExitCode.ok };
  } catch (err) {
    const code = err instanceof InputError ? err.exitCode : ExitCode.usage;
    return { stdout: '', stderr: `inventory: ${(err as Error).message}\n${err instanceof InputError ? '' : INVENTORY_USAGE}`, code };
  }
}
