import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { z } from '../../core/zod.ts';
import { sh } from '../../core/command.ts';
import { defineOp, type Decision } from '../../core/op.ts';
import { Secret } from '../../core/secret.ts';
import type { ExecResult } from '../../transport/types.ts';

/**
 * Swarm secrets cannot be read back, so the secret carries a label with a
 * salted scrypt digest of its value: enough to tell whether the inventory's
 * value changed, too slow to guess a password from.
 */
const DIGEST_LABEL = 'rigger.digest';

export function digest(value: string, salt = randomBytes(16).toString('hex')): string {
  return `scrypt:${salt}:${scryptSync(value, salt, 32).toString('hex')}`;
}

export function digestMatches(value: string, label: string | undefined): boolean {
  const [kind, salt, hash] = (label ?? '').split(':');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const mine = Buffer.from(digest(value, salt).split(':')[2]!, 'hex');
  const theirs = Buffer.from(hash, 'hex');
  return mine.length === theirs.length && timingSafeEqual(mine, theirs);
}

const schema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a secret name: letters, digits, _ . -'),
    value: z.instanceof(Secret, { message: 'a Secret (a !vault value in the inventory, or secret("..."))' }),
  })
  .strict();

/** A swarm secret from an inventory Secret; its value goes on stdin only. */
export const secret = defineOp({
  kind: 'docker.secret',
  schema,
  describe: (p) => `secret ${p.name}`,
  probe: (p) => ({
    command: sh`docker secret inspect ${p.name} --format '{{json .Spec.Labels}}' 2>/dev/null || echo @@missing`,
    parse: (r: ExecResult) => r.stdout.toString('utf8').trim(),
  }),
  decide: (p, text: string): Decision<{ name: string }> => {
    const result = { name: p.name };
    const create = sh`docker secret create --label ${`${DIGEST_LABEL}=${digest(p.value.reveal())}`} ${p.name} - >/dev/null`.withStdin(p.value);
    if (text === '@@missing') return { kind: 'change', msg: `create secret ${p.name}`, commands: [create], result: () => result, checkResult: result };
    const labels = (JSON.parse(text || 'null') ?? {}) as Record<string, string>;
    if (digestMatches(p.value.reveal(), labels[DIGEST_LABEL])) return { kind: 'ok', result };
    // A secret in use cannot be removed: Docker's own error names the services.
    return {
      kind: 'change',
      msg: `replace secret ${p.name} (its value changed)`,
      commands: [sh`docker secret rm ${p.name} >/dev/null`, create],
      result: () => result,
      checkResult: result,
    };
  },
});
