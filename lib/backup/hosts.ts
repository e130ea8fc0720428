import { InputError } from '../shell/errors.ts';
import type { PlaybookContext } from '../runner/playbook-context.ts';
import { backupVars } from './config.ts';
import { copyHostProblems } from './copy-host.ts';

/** The hosts that hold data: every host whose inventory gives backup_items (-e changes what, not where). */
export function backupHosts(ctx: PlaybookContext): string[] {
  const hosts = ctx.inventory.hostNames().filter((h) => {
    const items = ctx.inventory.varsFor(h).get('backup_items')?.value;
    return Array.isArray(items) && items.length > 0;
  });
  if (hosts.length === 0) throw new InputError('inventory', 'no host has backup_items: give the data node a list of items to back up (see docs/backups.md)');
  for (const h of hosts) {
    const parsed = backupVars.safeParse(ctx.hostVars(h));
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new InputError('inventory', `host ${h}: ${i.path.join('.')}: ${i.message}`);
    }
  }
  // backup_copy_to must name another backup host: a copy on the same disk, or on a host that takes no sets, survives nothing.
  const problems = copyHostProblems(
    hosts.map((h) => {
      const v = ctx.hostVars(h);
      return { name: h, copyTo: typeof v.backup_copy_to === 'string' ? v.backup_copy_to : undefined, hasOffsite: v.backup_offsite !== undefined };
    }),
  );
  if (problems.length) throw new InputError('inventory', problems.join('; '));
  return hosts;
}
