// The databases role's extension task (issue 29 item 6: PostgreSQLSlowQueries
// needs pg_stat_statements): what psql's answer says is there, and what is
// done about it: nothing when present, CREATE EXTENSION when missing, a
// failure naming the setting when the server did not preload the library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extensions, parseExtensionState, planExtensions } from '../../lib/ops/postgres/extensions.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { typedVars } from '../../lib/runner/host-vars.ts';
import { databasesDefaults } from '../../roles/databases/index.ts';
import { HOMELAB_VAULT_PASSWORD } from '../../scripts/lab/rehearsal.ts';

const want = { database: 'vibedb', extensions: ['pg_stat_statements'] };

test("psql's rows: the extensions created and the server's preloaded libraries", () => {
  const s = parseExtensionState('ext|plpgsql\next|pg_stat_statements\npreload|pg_stat_statements, auto_explain\n');
  assert.deepEqual([...s.installed].sort(), ['pg_stat_statements', 'plpgsql']);
  assert.deepEqual([...s.preloaded].sort(), ['auto_explain', 'pg_stat_statements']);
  assert.match(parseExtensionState('@@nocontainer').error!, /no running container/);
  assert.match(parseExtensionState('@@psql FATAL: the database system is starting up').error!, /psql failed: FATAL: the database system is starting up/);
});

test('preloaded and created: nothing to do; preloaded and missing: CREATE EXTENSION IF NOT EXISTS', () => {
  assert.deepEqual(planExtensions(want, parseExtensionState('ext|plpgsql\next|pg_stat_statements\npreload|pg_stat_statements')), { sql: [] });
  assert.deepEqual(planExtensions(want, parseExtensionState('ext|plpgsql\npreload|pg_stat_statements')), { sql: ['CREATE EXTENSION IF NOT EXISTS "pg_stat_statements";'] });
});

test('not preloaded: refused, naming shared_preload_libraries, whether or not the extension exists', () => {
  for (const rows of ['ext|plpgsql\npreload|', 'ext|pg_stat_statements\npreload|auto_explain']) {
    const plan = planExtensions(want, parseExtensionState(rows));
    assert.deepEqual(plan.sql, []);
    assert.match(plan.fail ?? '', /pg_stat_statements must be in the server's shared_preload_libraries .*-c shared_preload_libraries=pg_stat_statements/);
  }
});

test("the op's decision: ok when present, a change in check mode too, a failure without the container", () => {
  const op = extensions({ service: 'gateway_postgres', admin: 'vibe', ...want });
  const decide = (rows: string) => (op as unknown as { decide(s: unknown): { kind: string; msg?: string; reason?: string } }).decide(parseExtensionState(rows));
  assert.equal(decide('ext|pg_stat_statements\npreload|pg_stat_statements').kind, 'ok');
  const change = decide('ext|plpgsql\npreload|pg_stat_statements');
  assert.equal(change.kind, 'change');
  assert.equal(change.msg, 'create extension pg_stat_statements in vibedb');
  assert.equal(decide('@@nocontainer').kind, 'fail');
});

test('homelab.yml: pg_stat_statements in vibedb, the database the exporter reads, on the host that lists the databases', async () => {
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const v = typedVars(databasesDefaults, inv.varsFor('data.vibe.local'), 'databases', 'data.vibe.local');
  assert.deepEqual(v.app_database_extensions, [{ database: 'vibedb', extensions: ['pg_stat_statements'] }]);
});
