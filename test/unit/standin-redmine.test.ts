// The Redmine stand-in (spec in scripts/lab/standins.ts) picks its database as the redmine image's
// docker-entrypoint.sh does: PostgreSQL only when REDMINE_DB_POSTGRES names a host, else SQLite; and stops on a
// REDMINE_DB_PASSWORD_FILE it cannot read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';
import { onFreePort, refusal, stackEnvironment, startStandIn } from '../helpers/standin.ts';

const SPEC = STANDINS['redmine:5.1']!;

async function redmine(env: Record<string, string>, secret = path.join(scratchDir(), 'redmine_db_password')) {
  const dir = scratchDir();
  if (!secret.includes('missing')) writeFileSync(secret, 'pw\n');
  const { spec, port } = await onFreePort({ ...SPEC, writes: [path.join(dir, 'files')] });
  return { s: startStandIn(spec, [], { ...env, REDMINE_DB_PASSWORD_FILE: secret }), port };
}

test("redmine stand-in: with stacks/data.yml's REDMINE_DB_POSTGRES it needs that database (503 while unreachable); without, SQLite", async (t) => {
  const env = stackEnvironment('data', 'redmine');
  assert.equal(env.REDMINE_DB_POSTGRES, 'postgres');
  const pg = await redmine({ ...env, REDMINE_DB_POSTGRES: '127.0.0.1:9' });
  t.after(pg.s.stop);
  await pg.s.printed(/listening on/);
  assert.equal((await fetch(`http://127.0.0.1:${pg.port}/`)).status, 503);
  const { REDMINE_DB_POSTGRES: _, ...rest } = env;
  const lite = await redmine(rest);
  t.after(lite.s.stop);
  await lite.s.printed(/listening on/);
  assert.match(lite.s.output(), /REDMINE_DB_POSTGRES names no PostgreSQL: using SQLite/);
  assert.equal((await fetch(`http://127.0.0.1:${lite.port}/`)).status, 200);
});

test('redmine stand-in: refuses to start when REDMINE_DB_PASSWORD_FILE names no readable file', async () => {
  const { s } = await redmine(stackEnvironment('data', 'redmine'), path.join(scratchDir(), 'missing'));
  const r = await refusal(s);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /REDMINE_DB_PASSWORD_FILE names no readable file/);
});
