import { z } from '../../shell/zod.ts';
import { raw, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { Secret } from '../../shell/secret.ts';
import { CONTAINER_OF } from '../docker/container-of.ts';
import type { ExecResult } from '../../transport/types.ts';
import { scramVerifier, verifierMatches } from './scram.ts';

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a PostgreSQL name: lower-case letters, digits and _');

const schema = z
  .object({
    /** The swarm service (or container name) running PostgreSQL on this host. */
    service: z.string().min(1),
    /** The superuser psql connects as over the container's local socket. */
    admin: identifier.default('postgres'),
    databases: z.array(
      z
        .object({
          name: identifier,
          owner: identifier,
          password: z.instanceof(Secret, { message: 'a database password must be a !vault value' }),
        })
        .strict(),
    ),
  })
  .strict();

type Params = z.output<typeof schema>;

export interface ClusterState {
  error?: string;
  /** Role name -> its stored verifier ('' when it has no password). */
  roles: Map<string, string>;
  /** Database name -> its owner. */
  databases: Map<string, string>;
}

/**
 * psql's words when it failed, without the role rows it may have printed
 * before (the first query can succeed and the second fail): those hold
 * password verifiers, and the reason is printed everywhere.
 */
function psqlFailure(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('role|'))
    .join('\n')
    .trim();
}

/** Rows `role|NAME|VERIFIER` and `db|NAME|OWNER`, or an @@ marker with the reason. */
export function parseClusterState(text: string): ClusterState {
  const state: ClusterState = { roles: new Map(), databases: new Map() };
  if (text.startsWith('@@nocontainer')) return { ...state, error: 'no running container of the service on this host' };
  if (text.startsWith('@@psql')) return { ...state, error: `psql failed: ${psqlFailure(text.slice(6))}` };
  for (const line of text.split('\n')) {
    const [kind, name, value = ''] = line.split('|');
    if (kind === 'role' && name) state.roles.set(name, value);
    else if (kind === 'db' && name) state.databases.set(name, value);
  }
  return state;
}

const psql = (p: Params, interactive: boolean) =>
  sh`${raw(CONTAINER_OF)}
if c=$(container_of ${p.service}); then docker exec ${interactive ? ['-i'] : []} "$c" psql -U ${p.admin} -d postgres -X -q -v ON_ERROR_STOP=1`;

/** A verifier for the SQL, listed for redaction: psql may quote a failing statement. */
function newVerifier(password: string): string {
  const verifier = scramVerifier(password);
  new Secret(verifier);
  return verifier;
}

/** The SQL that brings the roles and databases to the inventory's, or [] when nothing is missing. */
export function planDatabases(p: Params, s: ClusterState): { changes: string[]; sql: string[] } {
  const changes: string[] = [];
  const sql: string[] = [];
  for (const db of p.databases) {
    const verifier = s.roles.get(db.owner);
    const password = db.password.reveal();
    if (verifier === undefined) {
      changes.push(`create role ${db.owner}`);
      sql.push(`CREATE ROLE "${db.owner}" LOGIN PASSWORD '${newVerifier(password)}';`);
    } else if (!verifierMatches(verifier, password)) {
      changes.push(`set role ${db.owner}'s password (it differs from the inventory's)`);
      sql.push(`ALTER ROLE "${db.owner}" LOGIN PASSWORD '${newVerifier(password)}';`);
    }
    const owner = s.databases.get(db.name);
    if (owner === undefined) {
      changes.push(`create database ${db.name} owned by ${db.owner}`);
      sql.push(`CREATE DATABASE "${db.name}" OWNER "${db.owner}";`);
    } else if (owner !== db.owner) {
      changes.push(`database ${db.name}: owner ${owner} -> ${db.owner}`);
      sql.push(`ALTER DATABASE "${db.name}" OWNER TO "${db.owner}";`);
    }
  }
  return { changes, sql };
}

/**
 * Each application's database and login role on the cluster's PostgreSQL
 * (run on the host that runs its container): created when missing, the
 * password set when it differs from the inventory's !vault value, the owner
 * corrected. The password travels as a SCRAM verifier on psql's stdin.
 */
export const databases = defineOp({
  kind: 'postgres.databases',
  schema,
  describe: (p) => `databases ${p.databases.map((d) => `${d.name}/${d.owner}`).join(', ')} in ${p.service}`,
  probe: (p) => ({
    // A database still starting fails psql: reported as @@psql with its words, for the task's retries.
    // Quiet whatever the parameters: the output holds every role's password verifier (a
    // verifier allows an offline guess of the password), so it is never streamed at -v.
    command: sh`out=$(${psql(p, false)} -At -F '|' -c ${"SELECT 'role', rolname, coalesce(rolpassword, '') FROM pg_authid"} -c ${"SELECT 'db', datname, pg_get_userbyid(datdba) FROM pg_database"} 2>&1; else echo @@nocontainer; fi) || out="@@psql $out"; printf '%s\n' "$out"`.quietly(),
    parse: (r: ExecResult) => {
      const state = parseClusterState(r.stdout.toString('utf8'));
      // The second line of defence: any later output holding a verifier is redacted.
      for (const verifier of state.roles.values()) if (verifier) new Secret(verifier);
      return state;
    },
  }),
  decide: (p, s: ClusterState): Decision<{ changes: string[] }> => {
    if (s.error) return { kind: 'fail', reason: `${p.service}: ${s.error}` };
    const plan = planDatabases(p, s);
    if (plan.sql.length === 0) return { kind: 'ok', result: { changes: [] } };
    const result = { changes: plan.changes };
    return {
      kind: 'change',
      msg: plan.changes.join('; '),
      commands: [sh`${psql(p, true)}; else echo ${`no running container of ${p.service}`} >&2; exit 1; fi`.withStdin(Secret.unlisted(plan.sql.join('\n') + '\n'))],
      result: () => result,
      checkResult: result,
    };
  },
});
