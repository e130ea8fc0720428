import { z } from '../../shell/zod.ts';
import { raw, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { CONTAINER_OF } from '../docker/container-of.ts';
import type { ExecResult } from '../../transport/types.ts';

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a PostgreSQL name: lower-case letters, digits and _');

const schema = z
  .object({
    /** The swarm service (or container name) running PostgreSQL on this host. */
    service: z.string().min(1),
    /** The superuser psql connects as over the container's local socket (CREATE EXTENSION needs one for most). */
    admin: identifier.default('postgres'),
    /** The database the extensions are created in (an extension is per database). */
    database: identifier,
    extensions: z.array(identifier).min(1),
  })
  .strict();

type Params = z.output<typeof schema>;

export interface ExtensionState {
  error?: string;
  /** Extensions created in the database. */
  installed: Set<string>;
  /** The server's shared_preload_libraries, as loaded at its start. */
  preloaded: Set<string>;
}

/**
 * Extensions whose functions only work when the server loaded the library
 * at start: CREATE EXTENSION succeeds without it, and every read of the view
 * then fails ("pg_stat_statements must be loaded via shared_preload_libraries").
 */
const NEEDS_PRELOAD = new Set(['pg_stat_statements', 'auto_explain', 'pg_cron']);

/** Rows `ext|NAME` and one `preload|a, b` line, or an @@ marker with the reason. */
export function parseExtensionState(text: string): ExtensionState {
  const state: ExtensionState = { installed: new Set(), preloaded: new Set() };
  if (text.startsWith('@@nocontainer')) return { ...state, error: 'no running container of the service on this host' };
  if (text.startsWith('@@psql')) return { ...state, error: `psql failed: ${text.slice(6).trim()}` };
  for (const line of text.split('\n')) {
    const [kind, value = ''] = line.split('|');
    if (kind === 'ext' && value) state.installed.add(value);
    else if (kind === 'preload') for (const lib of value.split(',')) if (lib.trim()) state.preloaded.add(lib.trim().replace(/^"|"$/g, ''));
  }
  return state;
}

/**
 * What to do: fail when a wanted extension needs a library the server did
 * not preload (creating it would leave a view that errors on every read,
 * the exporter's collector failing silently), else the CREATE statements
 * of the missing ones, or nothing.
 */
export function planExtensions(p: Pick<Params, 'database' | 'extensions'>, s: ExtensionState): { fail?: string; sql: string[] } {
  const unloaded = p.extensions.filter((e) => NEEDS_PRELOAD.has(e) && !s.preloaded.has(e));
  if (unloaded.length) {
    return { fail: `${unloaded.join(', ')} must be in the server's shared_preload_libraries (now: ${[...s.preloaded].join(', ') || 'none'}): start PostgreSQL with -c shared_preload_libraries=${unloaded.join(',')} (its stack's command:), then run again`, sql: [] };
  }
  return { sql: p.extensions.filter((e) => !s.installed.has(e)).map((e) => `CREATE EXTENSION IF NOT EXISTS "${e}";`) };
}

const psql = (p: Params) =>
  sh`${raw(CONTAINER_OF)}
if c=$(container_of ${p.service}); then docker exec -i "$c" psql -U ${p.admin} -d ${p.database} -X -q -v ON_ERROR_STOP=1`;

/**
 * Extensions created in one database of the cluster's PostgreSQL (on the
 * host that runs its container), as the monitoring needs them:
 * pg_stat_statements in the database postgres_exporter reads.
 */
export const extensions = defineOp({
  kind: 'postgres.extensions',
  schema,
  describe: (p) => `extensions ${p.extensions.join(', ')} in ${p.database} (${p.service})`,
  probe: (p) => ({
    command: sh`out=$(${psql(p)} -At -c ${"SELECT 'ext|' || extname FROM pg_extension"} -c ${"SELECT 'preload|' || current_setting('shared_preload_libraries')"} < /dev/null 2>&1; else echo @@nocontainer; fi) || out="@@psql $out"; printf '%s\n' "$out"`,
    parse: (r: ExecResult) => parseExtensionState(r.stdout.toString('utf8')),
  }),
  decide: (p, s: ExtensionState): Decision<{ created: string[] }> => {
    if (s.error) return { kind: 'fail', reason: `${p.service}: ${s.error}` };
    const plan = planExtensions(p, s);
    if (plan.fail) return { kind: 'fail', reason: `${p.service}: ${plan.fail}` };
    if (plan.sql.length === 0) return { kind: 'ok', result: { created: [] } };
    const created = p.extensions.filter((e) => !s.installed.has(e));
    const result = { created };
    return {
      kind: 'change',
      msg: `create extension ${created.join(', ')} in ${p.database}`,
      commands: [sh`${psql(p)}; else echo ${`no running container of ${p.service}`} >&2; exit 1; fi`.withStdin(Buffer.from(plan.sql.join('\n') + '\n'))],
      result: () => result,
      checkResult: result,
    };
  },
});
