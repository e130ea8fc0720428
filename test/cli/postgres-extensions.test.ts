// The databases role's extension task against a real PostgreSQL of this
// machine (test/helpers/postgres.ts, reached through its stand-in docker):
// pg_stat_statements created in the database the exporter reads, its view
// readable, nothing done on a second run nor in check mode; on a server
// started without the preload, refused naming shared_preload_libraries and
// nothing created (the view would fail every read).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { scratchDir } from '../helpers/run.ts';

const servers: TestPostgres[] = [];
after(() => servers.forEach((s) => s.stop()));

async function server(serverOptions: string[]): Promise<TestPostgres> {
  const pg = await startPostgres(`superuser ${Math.random().toString(36).slice(2)}`, serverOptions);
  servers.push(pg);
  pg.sql('postgres', 'CREATE DATABASE vibedb');
  return pg;
}

function inventory(): string {
  const file = path.join(scratchDir(), 'hosts.yml');
  writeFileSync(
    file,
    `all:\n  vars:\n    ansible_connection: local\n    app_databases_service: pg\n    app_databases_admin: postgres\n    app_databases_retries: 0\n    app_database_extensions:\n      - { database: vibedb, extensions: [pg_stat_statements] }\n  hosts:\n    dbhost:\n`,
  );
  return file;
}
const run = (pg: TestPostgres, extra: string[] = []) => runCli(['test/fixtures/playbooks/databases-role.ts', '-i', inventory(), '--json', ...extra], { PATH: `${pg.dockerBin}:${process.env.PATH}` });
const extensionsIn = (pg: TestPostgres) => pg.sql('vibedb', 'SELECT extname FROM pg_extension ORDER BY 1').trim().split('\n');

type Event = { type: string; task?: string; status?: string; msg?: string };
const taskEvent = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event).find((e) => e.type === 'task-host' && e.task === 'database extensions');

test('preloaded: created in vibedb and readable; a second run and check mode change nothing', async () => {
  const pg = await server(['-c shared_preload_libraries=pg_stat_statements']);
  const check = await run(pg, ['--check']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.equal(taskEvent(check.stdout)?.status, 'skipped');
  assert.deepEqual(extensionsIn(pg), ['plpgsql'], 'check mode created nothing');

  const first = await run(pg);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(taskEvent(first.stdout)?.status, 'changed');
  assert.deepEqual(extensionsIn(pg), ['pg_stat_statements', 'plpgsql']);
  // What postgres_exporter's stat_statements collector reads.
  assert.match(pg.sql('vibedb', 'SELECT count(*) FROM pg_stat_statements'), /^\d+\n$/);

  const second = await run(pg);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(taskEvent(second.stdout)?.status, 'ok');
});

test('not preloaded: refused naming shared_preload_libraries, nothing created', async () => {
  const pg = await server([]);
  const r = await run(pg);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const e = taskEvent(r.stdout);
  assert.equal(e?.status, 'failed');
  assert.match(`${e?.msg}${r.stdout}`, /pg_stat_statements must be in the server's shared_preload_libraries \(now: none\)/);
  assert.deepEqual(extensionsIn(pg), ['plpgsql']);
});
