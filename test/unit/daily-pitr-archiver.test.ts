// The daily check's point-in-time reading: the archiver judged by the
// server's replication slot (pg_receivewal retrying a lost slot keeps its
// container Running). The finding on each slot state, and the reading's
// probe run against a real PostgreSQL (the stand-in docker of
// test/helpers/postgres.ts runs `docker exec` against it): no slot, an
// inactive slot, and a slot a real pg_receivewal streams through.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { archiverFinding, parseSlotReading } from '../../lib/daily/findings.ts';
import { pitrArchiver } from '../../lib/daily/ops/checks.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

const judge = (stdout: string) => archiverFinding('nas', 'rigger_archive', 'cicd', parseSlotReading(stdout));

test('the slot active and reserved passes naming the archive host; unreserved warns; missing, inactive or lost fails', () => {
  const pass = judge('@@slot t reserved\n');
  assert.equal(pass.level, 'pass');
  assert.match(pass.detail, /streaming to cicd/);
  assert.equal(judge('@@slot t extended\n').level, 'pass', 'past max_wal_size but within the slot\'s bound: kept');
  const unreserved = judge('@@slot t unreserved\n');
  assert.equal(unreserved.level, 'warn');
  assert.match(unreserved.detail, /max_slot_wal_keep_size/);
  const missing = judge('@@noslot\n');
  assert.equal(missing.level, 'fail');
  assert.match(missing.detail, /slot rigger_archive is missing/);
  const inactive = judge('@@slot f reserved\n');
  assert.equal(inactive.level, 'fail');
  assert.match(inactive.detail, /inactive: pg_receivewal on cicd is not streaming/);
  // What the issue names: pg_receivewal loops on a lost slot; whether it is connected at that moment or not, the archive has a gap.
  for (const active of ['t', 'f']) {
    const lost = judge(`@@slot ${active} lost\n`);
    assert.equal(lost.level, 'fail', active);
    assert.match(lost.detail, /lost its WAL.*the archive on cicd has a gap/);
  }
  const unread = judge('@@unread no running container of gateway_postgres on this host\n');
  assert.equal(unread.level, 'fail');
  assert.match(unread.detail, /cannot read slot rigger_archive: no running container/);
  assert.equal(judge('garbage').level, 'fail', 'output that makes no sense is not a pass');
});

let pg: TestPostgres | undefined;
after(() => pg?.stop());

/** The reading's own probe, run here with the stand-in docker first in PATH. */
function probe(): string {
  const op = pitrArchiver({ host: 'nas', service: 'gateway_postgres', admin: 'postgres', slot: 'rigger_archive', archiveHost: 'cicd' });
  const r = spawnSync('sh', ['-c', String(op.probe!.command.toString())], { encoding: 'utf8', env: { ...process.env, PATH: `${pg!.dockerBin}:${process.env.PATH}` } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('the probe against a real server: no slot fails, a slot nobody streams from fails, pg_receivewal streaming passes', async () => {
  pg = await startPostgres('pw');
  assert.equal(judge(probe()).level, 'fail');
  assert.match(judge(probe()).detail, /is missing/);
  pg.sql('postgres', "SELECT pg_create_physical_replication_slot('rigger_archive', true)");
  const idle = judge(probe());
  assert.equal(idle.level, 'fail', idle.detail);
  assert.match(idle.detail, /inactive/);
  const bin = path.dirname(spawnSync('sh', ['-c', `ls -d /usr/lib/postgresql/*/bin/pg_receivewal | sort -V | tail -n1`], { encoding: 'utf8' }).stdout.trim());
  const wal = mkdtempSync(path.join(tmpdir(), 'rigger-slot-wal-'));
  chmodSync(wal, 0o777);
  const receiver = spawn('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_receivewal'), '-D', wal, '-S', 'rigger_archive', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-n'], { stdio: 'ignore' });
  try {
    let streaming = judge(probe());
    for (let i = 0; i < 100 && streaming.level !== 'pass'; i++) {
      await sleep(100);
      streaming = judge(probe());
    }
    assert.equal(streaming.level, 'pass', streaming.detail);
    assert.match(streaming.detail, /active, streaming to cicd \(wal_status reserved\)/);
  } finally {
    if (receiver.exitCode === null && receiver.signalCode === null) {
      const gone = once(receiver, 'exit');
      receiver.kill();
      await gone;
    }
  }
});
