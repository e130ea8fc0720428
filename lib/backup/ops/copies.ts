import { z } from '../../shell/zod.ts';
import { Command } from '../../shell/command.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { copyStateCommand, parseCopyState, type CopyState } from '../copy-state.ts';
import { SET_NAME } from '../retention.ts';

const MARK = '@@copy-of ';

/**
 * How the copies of some sets stand on the copy host (run there, read-only):
 * for each set, verified / missing / damaged, by the sizes the manifest
 * records, and for the sets named in `sha256` (the newest) by checksum too.
 */
export const copyStates = defineOp({
  kind: 'backup.copy-states',
  schema: z.object({ dir: absolutePath, sets: z.array(z.string().regex(SET_NAME)), sha256: z.array(z.string().regex(SET_NAME)).default([]) }).strict(),
  describe: (p) => `${p.dir}: ${p.sets.length} sets`,
  readOnly: true,
  probe: (p) => ({
    command: Command.join(
      p.sets.flatMap((s) => [new Command(Buffer.from(`echo '${MARK}${s}'`)), copyStateCommand(`${p.dir}/${s}`, p.sha256.includes(s))]),
      '\n',
    ),
    parse: (r: ExecResult) => {
      const out = new Map<string, CopyState>();
      const chunks = r.stdout.toString('utf8').split(MARK).slice(1);
      for (const chunk of chunks) {
        const nl = chunk.indexOf('\n');
        const set = chunk.slice(0, nl);
        const body = { ...r, code: 0, stdout: Buffer.from(chunk.slice(nl + 1)) };
        out.set(set, parseCopyState(body, set, p.sha256.includes(set)));
      }
      return out;
    },
  }),
  decide: (p, states: Map<string, CopyState>): Decision<Record<string, CopyState>> => {
    const result = Object.fromEntries(p.sets.map((s) => [s, states.get(s) ?? { state: 'missing' as const, checked: 'sizes' as const, problem: 'not read' }]));
    const bad = Object.values(result).filter((c) => c.state !== 'verified').length;
    return { kind: 'ok', result, msg: `${p.sets.length - bad} of ${p.sets.length} copies verified` };
  },
});
