import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import { RUN_LOG, runLogEntry, type RunLogEntry } from '../listing.ts';
import { rootCheckFunctions } from '../root-check.ts';

/**
 * Appends one line to the backup root's run log, which --list reads: a
 * failed or missing night shows there. A single short write with O_APPEND,
 * so concurrent runs interleave whole lines. Skipped quietly when the root
 * is not one a set may be written to, by the set's own check
 * (root-check.ts): the empty mount point of an unmounted disk is a
 * directory, and a log written there would land on the file system below
 * it (the set's refusal already says why).
 */
export const recordRun = defineOp({
  kind: 'backup.record',
  schema: z.object({ root: absolutePath, create: z.boolean(), entry: runLogEntry }).strict(),
  describe: (p) => `${p.entry.kind} ${p.entry.status}`,
  decide: (p): Decision<RunLogEntry> => {
    const line = JSON.stringify(p.entry).replace(/\n/g, ' ');
    return {
      kind: 'change',
      msg: `log ${p.entry.kind} ${p.entry.status}${p.entry.set ? ` ${p.entry.set}` : ''}`,
      commands: [sh`sh -c ${runLogScript(p.create)} rigger-run-log ${p.root} ${RUN_LOG} ${line}`],
      result: () => p.entry,
      checkResult: p.entry,
    };
  },
});

/** Appends $3 to $1/$2 when $1 passes the backup root check; the values come as arguments, never in the script's text. */
function runLogScript(create: boolean): string {
  return [
    'root=$1',
    rootCheckFunctions(create),
    'backup_root_problem >/dev/null || exit 0',
    'mkdir -p -- "$(dirname -- "$root/$2")" && printf \'%s\\n\' "$3" >> "$root/$2"',
  ].join('\n');
}
