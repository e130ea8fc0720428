import { z } from '../../shell/zod.ts';
import { Command, raw, sh } from '../../shell/command.ts';
import { defineOp, OpFailure, type Decision } from '../../model/op.ts';
import { CONTAINER_OF } from '../../ops/docker/container-of.ts';
import { backupVars, duplicateItemNames, itemName, type BackupItemConfig } from '../config.ts';
import { parseSetOutput, setCommand, type SetOutcome } from '../set-script.ts';
import { rootCheckFunctions } from '../root-check.ts';
import type { ExecResult } from '../../transport/types.ts';

/**
 * The inventory's own schema (config.ts): the op checks what it is given
 * itself, so an item built in code, not read from an inventory, is held to
 * the same rules before any of its fields reach the host's shell.
 */
const schema = z.object({ vars: backupVars }).strict();

interface Readiness {
  problems: string[];
}

/** What the item needs on the host, as a check that prints a problem line when it is missing. */
function need(item: BackupItemConfig): Command {
  const name = itemName(item);
  switch (item.kind) {
    case 'postgres':
    case 'gitea':
      return sh`container_of ${item.service} >/dev/null || echo ${`${name}: no running container of service ${item.service} on this host`}`;
    case 'volume':
      return sh`docker volume inspect ${item.volume} >/dev/null 2>&1 || echo ${`${name}: no volume ${item.volume} on this host`}`;
    case 'config':
      return Command.join(item.paths.map((p) => sh`[ -e ${p} ] || echo ${`${name}: ${p} does not exist`}`), '\n');
  }
}

/**
 * What every item needs; Docker's engine is asked for only when an item
 * lives in it, so a host that backs up files alone (no Docker at all) can.
 */
function readiness(items: BackupItemConfig[]): Command {
  const needs = Command.join(items.map(need), '\n');
  if (!items.some((i) => i.kind !== 'config')) return needs;
  return sh`if ! docker info >/dev/null 2>&1; then echo "host: the Docker engine does not answer"; else
  :
${needs}
fi`;
}

/**
 * One backup set (set-script.ts does the work). The probe finds what would
 * fail before anything is written, so check mode says it too; the script
 * checks it all again under its lock.
 */
export const takeSet = defineOp({
  kind: 'backup.set',
  schema,
  describe: (p) => `${p.vars.backup_items.length} items into ${p.vars.backup_root}`,
  probe: (p) => ({
    command: sh`root=${p.vars.backup_root}
${raw(rootCheckFunctions(p.vars.backup_root_create))}
why=$(backup_root_problem) || echo "root: $why"
for t in bash flock sha256sum; do command -v $t >/dev/null || echo "host: $t is not installed"; done
${raw(CONTAINER_OF)}
${readiness(p.vars.backup_items)}`,
    parse: (r: ExecResult): Readiness => ({ problems: r.stdout.toString('utf8').split('\n').filter(Boolean) }),
  }),
  decide: (p, s: Readiness): Decision<SetOutcome> => {
    const dupes = duplicateItemNames(p.vars.backup_items);
    if (dupes.length) return { kind: 'fail', reason: `two backup_items write ${dupes.join(', ')}: give them different names` };
    if (p.vars.backup_items.length === 0) return { kind: 'fail', reason: 'backup_items is empty: nothing to back up' };
    if (s.problems.length) return { kind: 'fail', reason: s.problems.join('; ') };
    const names = p.vars.backup_items.map(itemName);
    return {
      kind: 'change',
      msg: `take a set of ${names.join(', ')}`,
      checkResult: { published: false, bytes: 0, items: [], stale: [] },
      apply: async (remote) => {
        const r = await remote.run(setCommand({ vars: p.vars, items: p.vars.backup_items }));
        const out = parseSetOutput(r.stdout.toString('utf8'));
        if (!out.published || r.code !== 0) {
          const why = out.failure
            ? `${out.failure.item}: ${out.failure.reason}`
            : `the backup script exited ${r.code}: ${r.stderr.toString('utf8').trim().slice(-500) || 'no output'}`;
          throw new OpFailure(`${why} (no set published${out.set ? `; ${out.set}.partial removed` : ''})`, r, out);
        }
        return out;
      },
    };
  },
});

