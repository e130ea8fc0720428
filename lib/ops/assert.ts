import { z } from '../shell/zod.ts';
import { defineOp, type Decision } from '../model/op.ts';

/**
 * A check on variables, made before anything changes (Ansible's assert):
 * fails the host with `message` when `that` is false. Read-only, so check
 * mode reports the same failure a real run would.
 */
export const assert = defineOp({
  kind: 'assert',
  schema: z.object({ that: z.boolean(), message: z.string().min(1), success: z.string().optional() }).strict(),
  describe: (p) => p.success ?? 'assertion',
  readOnly: true,
  decide: (p): Decision<{ ok: boolean }> => (p.that ? { kind: 'ok', result: { ok: true }, ...(p.success ? { msg: p.success } : {}) } : { kind: 'fail', reason: p.message }),
});
