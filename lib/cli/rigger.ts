#!/usr/bin/env node
// The `rigger` command: a playbook file runs it; a word picks a subcommand.
// Each subcommand's module is imported only when chosen, so a playbook run
// loads none of them.
import { ExitCode, RiggerError } from '../shell/errors.ts';

const USAGE = `Usage: rigger PLAYBOOK.ts [playbook flags; see rigger PLAYBOOK.ts --help]
       rigger init [DIR]                      a starter project (default: the current directory)
       rigger inventory [-i FILE] [--list | --host HOST | --graph]
       rigger plan show FILE [--json]         a plan saved by PLAYBOOK --plan FILE, with its diffs
       rigger vault encrypt|decrypt|rekey|view ...
       rigger lab up|status|reset|down        the local Docker lab (from a rigger checkout)
       rigger schema inventory [ROLE_FILE...] JSON Schema of an inventory and its roles' variables
`;

const COMMANDS: Record<string, () => Promise<{ main(args: string[]): Promise<number> }>> = {
  init: () => import('./commands/init.ts'),
  inventory: () => import('./commands/inventory.ts'),
  vault: () => import('./commands/vault.ts'),
  plan: () => import('./commands/plan.ts'),
  lab: () => import('./commands/lab.ts'),
  schema: () => import('./commands/schema.ts'),
};

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    process.stdout.write(USAGE);
    return first === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = COMMANDS[first];
  if (command) return (await command()).main(rest);
  if (/\.[mc]?[tj]s$/.test(first)) {
    const { runPlaybookFile } = await import('./commands/playbook.ts');
    // The playbook ends the process itself (runPlaybook exits with the run's code).
    await runPlaybookFile(first, rest);
    return ExitCode.ok;
  }
  process.stderr.write(`rigger: unknown command ${JSON.stringify(first)}\n${USAGE}`);
  return ExitCode.usage;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`rigger: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = err instanceof RiggerError ? err.exitCode : ExitCode.usage;
}
