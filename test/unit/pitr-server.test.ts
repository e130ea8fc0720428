// The pitr role's server settings (pitrServer) probed on a local host through a
// stand-in `docker`: `ps` names the service's container, `exec ... psql` prints
// the row a server would (and what PostgreSQL writes to stderr besides it),
// `exec ... sh -c` runs the pg_hba check here on a real file. Check mode: the
// decision is read, nothing is applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay } from '../../lib/index.ts';
import { pitrConfig } from '../../lib/pitr/config.ts';
import { hbaLine, pitrServer } from '../../lib/pitr/ops/index.ts';
import { scramVerifier } from '../../lib/ops/postgres/scram.ts';
import { localInventory, runPlays, scratchDir } from '../helpers/run.ts';

const TASK = 'archiving settings';

/** What the stand-in server answers: max_slot_wal_keep_size as current_setting() prints it, psql's stderr, and whether psql fails. */
interface Server {
  keep: string;
  stderr?: string;
  fails?: boolean;
}

/** Runs pitrServer in check mode against a stand-in server; the task's status and its message. */
async function probe(server: Server, inventoryKeep = '10GB') {
  const dir = scratchDir();
  const config = pitrConfig.parse({ database_host: 'db', archive_host: 'nas', password: 'pw', max_slot_wal_keep_size: inventoryKeep });
  const hba = path.join(dir, 'pg_hba.conf');
  writeFileSync(hba, `${hbaLine(config)}\n`);
  writeFileSync(path.join(dir, 'row'), `replica|10|${server.keep}|${hba}|role:${scramVerifier('pw')}|true|1\n`);
  writeFileSync(path.join(dir, 'stderr'), server.stderr ?? '');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(
    path.join(bin, 'docker'),
    `#!/bin/sh
case $1 in
  ps) echo c0ffee ;;
  exec)
    shift 2
    if [ "$1" = psql ]; then
      cat ${JSON.stringify(path.join(dir, 'stderr'))} >&2
      ${server.fails ? 'exit 2' : `cat ${JSON.stringify(path.join(dir, 'row'))}`}
    else exec "$@"; fi ;;
  *) echo "stand-in docker: $1 is not supported" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(path.join(bin, 'docker'), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  try {
    const play = definePlay({ name: 'pitr server', hosts: 'db', tasks: ({ task }) => [task({ name: TASK, op: () => pitrServer({ config }) })] });
    const out = await runPlays(localInventory(['db']), [play], { check: true });
    const events = out.events.filter((e) => e.type === 'task-host' && e.task === TASK);
    return { status: out.statuses.get(TASK)?.get('db'), detail: JSON.stringify(events) };
  } finally {
    process.env.PATH = saved;
  }
}

const COLLATION_WARNING = [
  'WARNING:  database "postgres" has a collation version mismatch',
  'DETAIL:  The database was created using collation version 2.36, but the operating system provides version 2.41.',
  'HINT:  Rebuild all objects in this database that use the default collation and run ALTER DATABASE postgres REFRESH COLLATION VERSION, or build PostgreSQL with the right library version.',
].join('\n');

test('a server that has everything: ok', async () => {
  const r = await probe({ keep: '10GB' });
  assert.equal(r.status, 'ok', r.detail);
});

test("psql's warnings on stderr (PostgreSQL 15's collation version mismatch) are not read as the settings' row", async () => {
  const r = await probe({ keep: '10GB', stderr: `${COLLATION_WARNING}\n` });
  assert.equal(r.status, 'ok', r.detail);
  assert.doesNotMatch(r.detail, /collation/, 'a warning of a psql that succeeded is not reported');
});

test('psql failing: failed, with what psql wrote to stderr', async () => {
  const r = await probe({ keep: '10GB', stderr: 'psql: error: FATAL:  role "postgres" does not exist\n', fails: true });
  assert.equal(r.status, 'failed', r.detail);
  assert.match(r.detail, /role \\"postgres\\" does not exist/);
});

test('max_slot_wal_keep_size compared as a size: PostgreSQL prints the largest exact unit', async () => {
  // 1024MB reads back as 1GB, 10GB as 10240MB would if set so: the same size, no change (a no-op converge stays ok).
  assert.equal((await probe({ keep: '1GB' }, '1024MB')).status, 'ok');
  assert.equal((await probe({ keep: '10240MB' }, '10GB')).status, 'ok');
  assert.equal((await probe({ keep: '0' }, '0MB')).status, 'ok');
  // Another size: a change, named.
  const other = await probe({ keep: '5GB' }, '10GB');
  assert.equal(other.status, 'changed', other.detail);
  assert.match(other.detail, /max_slot_wal_keep_size 5GB -> 10GB/);
  // Unlimited (-1, the default): a change to the inventory's bound.
  assert.equal((await probe({ keep: '-1' }, '10GB')).status, 'changed');
});
