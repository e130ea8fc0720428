import { z } from '../../shell/zod.ts';
import { raw, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { describeOverride, OVERRIDES_LIST, parseOverrideLines, type ScaleOverride } from './scale-override.ts';

export interface ListedOverride extends ScaleOverride {
  service: string;
}

/** Every operator's scale on the swarm (playbooks/scale.ts with no arguments), read on a manager. */
export const scaleOverrides = defineOp({
  kind: 'docker.scaleOverrides',
  schema: z.object({}).strict(),
  describe: () => 'operator scales',
  readOnly: true,
  probe: () => ({ command: sh`${raw(OVERRIDES_LIST)}`, parse: (r: ExecResult) => parseOverrideLines(r.stdout.toString('utf8').split('\n')) }),
  decide: (_p, found: Map<string, ScaleOverride>): Decision<ListedOverride[]> => {
    const rows = [...found].map(([service, o]) => ({ service, ...o })).sort((a, b) => a.service.localeCompare(b.service));
    return { kind: 'ok', result: rows, msg: rows.length ? rows.map((r) => `${r.service} ${describeOverride(r)}`).join('; ') : 'no service is scaled by an operator' };
  },
});
