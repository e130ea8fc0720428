import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, type Decision, type Remote } from '../../model/op.ts';
import { Secret } from '../../shell/secret.ts';
import type { ExecResult } from '../../transport/types.ts';
import { gatedRollout } from './rollout/health-gated.ts';
import { currentVersion, secretAddArg, versionName, versionOf, type SecretRef } from './rollout/secret-versions.ts';
import { healthCheckSchema } from './health.ts';
import { healthWindowsSchema } from './health-window.ts';

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
    /** HTTP checks that gate the restart of the services using it (the inventory's health_checks). */
    checks: z.array(healthCheckSchema).default([]),
    retries: z.number().int().min(0).default(10),
    delaySeconds: z.number().min(0).default(3),
    timeoutSeconds: z.number().int().min(1).default(300),
    /** The inventory's health_windows: a restarted service is waited on for at least its window. */
    healthWindows: healthWindowsSchema,
    user: z.string().default('unknown'),
  })
  .strict();
type Params = z.output<typeof schema>;

interface SecretState {
  noSwarm?: boolean;
  /** Every version of this secret and its labels. */
  versions: Record<string, Record<string, string>>;
  /** Services whose spec references a version of it, and how. */
  users: { service: string; ref: SecretRef }[];
}

export function parseSecretState(name: string, text: string): SecretState {
  const state: SecretState = { versions: {}, users: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith('@@noswarm')) state.noSwarm = true;
    else if (line.startsWith('@@secret ')) {
      const [, secret = '', ...labels] = line.split(' ');
      // Only NAME and NAME_v<digits>: the sweep removes unused versions, never a secret named like one (NAME_v2_old).
      if (versionOf(name, secret) === undefined) continue;
      state.versions[secret] = (JSON.parse(labels.join(' ') || 'null') ?? {}) as Record<string, string>;
    } else if (line.startsWith('{')) {
      const spec = JSON.parse(line) as { Name: string; TaskTemplate?: { ContainerSpec?: { Secrets?: SecretRef[] } } };
      for (const ref of spec.TaskTemplate?.ContainerSpec?.Secrets ?? []) if (versionOf(name, ref.SecretName) !== undefined) state.users.push({ service: spec.Name, ref });
    }
  }
  return state;
}

const probe = (name: string) =>
  sh`if ! names=$(docker secret ls --format '{{.Name}}' 2>/dev/null); then echo @@noswarm; exit 0; fi
n=${name}
for s in $names; do
  # NAME or NAME_v<digits> exactly (a glob alone would take NAME_v2_old too)
  case "$s" in "$n") ;; "$n"_v[0-9]*) v=\${s#"$n"_v}; case $v in *[!0-9]*) continue ;; esac ;; *) continue ;; esac
  echo "@@secret $s $(docker secret inspect --format '{{json .Spec.Labels}}' "$s")"
done
ids=$(docker service ls -q); [ -z "$ids" ] || docker service inspect --format '{{json .Spec}}' $ids`;

const create = (p: Params, version: string) => sh`docker secret create --label ${`${DIGEST_LABEL}=${digest(p.value.reveal())}`} ${version} - >/dev/null`.withStdin(p.value);

/** The versions of the secret that no service references after the rotation. */
async function removeUnused(p: Params, keep: string, remote: Remote): Promise<string[]> {
  const s = parseSecretState(p.name, (await remote.check(probe(p.name))).stdout.toString('utf8'));
  const used = new Set(s.users.map((u) => u.ref.SecretName));
  const unused = Object.keys(s.versions).filter((v) => v !== keep && !used.has(v));
  if (unused.length) await remote.check(sh`docker secret rm ${unused} >/dev/null`);
  return unused;
}

export interface SecretResult {
  name: string;
  /** The version services use now. */
  version: string;
  restarted: string[];
  removed: string[];
}

/**
 * A swarm secret from an inventory Secret; its value goes on stdin only. A
 * changed value becomes a new version (NAME_vN) and every service using the
 * old one is re-pointed to it, health-gated like a deploy (rolled back on
 * failure); then the versions no service uses are removed. A service keeps
 * reading the same file (/run/secrets/NAME), so nothing else changes.
 */
export const secret = defineOp({
  kind: 'docker.secret',
  schema,
  describe: (p) => `secret ${p.name}`,
  probe: (p) => ({ command: probe(p.name), parse: (r: ExecResult) => parseSecretState(p.name, r.stdout.toString('utf8')) }),
  decide: (p, s: SecretState): Decision<SecretResult> => {
    const current = currentVersion(p.name, Object.keys(s.versions));
    if (!current) {
      const result = { name: p.name, version: p.name, restarted: [], removed: [] };
      return { kind: 'change', msg: `create secret ${p.name}`, commands: [create(p, p.name)], result: () => result, checkResult: result };
    }
    if (digestMatches(p.value.reveal(), s.versions[current]?.[DIGEST_LABEL])) return { kind: 'ok', result: { name: p.name, version: current, restarted: [], removed: [] } };
    const next = versionName(p.name, (versionOf(p.name, current) ?? 1) + 1);
    const users = s.users.filter((u) => u.ref.SecretName !== next);
    const services = [...new Set(users.map((u) => u.service))].sort();
    return {
      kind: 'change',
      msg: `rotate secret ${p.name}: new version ${next}; ${services.length ? `restarts ${services.join(', ')} (health-gated)` : 'no service uses it'}`,
      diff: { kind: 'summary', lines: [`+ secret ${next}`, ...users.map((u) => `~ ${u.service}: secret ${u.ref.SecretName} -> ${next} (restarts)`)] },
      apply: async (remote) => {
        await remote.check(create(p, next));
        if (users.length) {
          try {
            await gatedRollout(remote, {
              action: `rotate secret ${p.name}`,
              user: p.user,
              changes: users.map((u) => ({ name: u.service, from: `secret ${u.ref.SecretName}`, to: `secret ${next}`, args: ['--secret-rm', u.ref.SecretName, '--secret-add', secretAddArg(next, u.ref)] })),
              checks: p.checks,
              retries: p.retries,
              delaySeconds: p.delaySeconds,
              timeoutSeconds: p.timeoutSeconds,
              windows: p.healthWindows,
            });
          } catch (err) {
            // The services are back on the old version: the new one is unused.
            await remote.run(sh`docker secret rm ${next} >/dev/null`);
            throw err;
          }
        }
        return { name: p.name, version: next, restarted: services, removed: await removeUnused(p, next, remote) };
      },
      checkResult: { name: p.name, version: next, restarted: services, removed: [] },
    };
  },
});

