// The converge's base backup (site.ts, roles/pitr pitrArchiveConverge): taken only when the archive
// holds no base backup of the running cluster (its system identifier, recorded in each base
// backup's info), so a second converge changes nothing; the nightly one is taken every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pitrConfig } from '../../lib/pitr/config.ts';
import { pitrBaseBackup } from '../../lib/pitr/ops/index.ts';
import type { ExecResult } from '../../lib/transport/types.ts';

const config = pitrConfig.parse({ database_host: 'data', archive_host: 'ai', archive_dir: '/srv/backup/pitr', password: 'pw' });
const out = (stdout: string) => ({ code: 0, stdout: Buffer.from(stdout), stderr: Buffer.alloc(0) }) as unknown as ExecResult;

function decided(stdout: string) {
  const op = pitrBaseBackup({ config, ifNoneOfThisCluster: true });
  assert.ok(op.probe, 'the converge reads the archive before taking a base backup');
  return op.decide(op.probe.parse(out(stdout)) as never);
}

test('a base backup of the running cluster archived: nothing to do', () => {
  const d = decided('@@server 7412345678901234567\n@@base 20261206_020000 6999999999999999999\n@@base 20261207_020000 7412345678901234567\n');
  assert.equal(d.kind, 'ok', JSON.stringify(d));
});

test("only another cluster's base backups, or ones without a recorded system identifier, or none: one is taken", () => {
  for (const stdout of ['@@server 7412345678901234567\n@@base 20261206_020000 6999999999999999999\n', '@@server 7412345678901234567\n@@base 20261206_020000 \n', '@@server 7412345678901234567\n']) {
    const d = decided(stdout);
    assert.equal(d.kind, 'change', stdout);
  }
});

test("the server's identifier unreadable (the archiver not started yet: check mode on a fresh cluster): one would be taken", () => {
  const d = decided('@@noserver psql: error: connection refused\n@@base 20261207_020000 7412345678901234567\n');
  assert.equal(d.kind, 'change');
  assert.match(d.kind === 'change' ? d.msg : '', /connection refused/);
});

test('the nightly base backup (backup.ts, a recovery) reads nothing and is always taken', () => {
  const op = pitrBaseBackup({ config });
  assert.equal(op.probe, undefined);
  assert.equal(op.decide(undefined as never).kind, 'change');
});
