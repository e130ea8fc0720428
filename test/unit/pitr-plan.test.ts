import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange, planRecovery } from '../../lib/pitr/scripts.ts';
import { parseToTime } from '../../playbooks/pitr-plays.ts';
import { pitrConfig } from '../../lib/pitr/config.ts';
import { serverTime } from '../../lib/pitr/ops/index.ts';

const range = parseRange(
  [
    '@@base 20261207_020000 000000010000000000000010 2026-12-07T02:00:30Z',
    '@@base 20261206_020000 000000010000000000000004 2026-12-06T02:00:20Z',
    // Every segment from the older base backup's start on: the plan checks the WAL is continuous (pitr-wal-gap.test.ts).
    ...Array.from({ length: 16 }, (_, i) => `@@wal 0000000100000000000000${(4 + i).toString(16).toUpperCase().padStart(2, '0')}`),
    '@@newest 2026-12-07 13:40:01.123456 000000010000000000000013.partial',
  ].join('\n'),
);

test('the base backup for a time is the newest one consistent by then; the WAL from its start on', () => {
  assert.equal(range.newestCommit, '2026-12-07T13:40:01.123Z');
  const before = planRecovery(range, new Date('2026-12-07T01:00:00Z'));
  assert.deepEqual(before.ok && [before.base, before.startWal], ['20261206_020000', '000000010000000000000004']);
  const after = planRecovery(range, new Date('2026-12-07T12:00:00Z'));
  assert.deepEqual(after.ok && [after.base, after.startWal], ['20261207_020000', '000000010000000000000010']);
});

test('a time outside the archive is refused naming the reachable range', () => {
  const late = planRecovery(range, new Date('2026-12-07T13:40:01.123Z'));
  assert.ok(!late.ok);
  assert.match(late.reason, /newest time reachable is just before 2026-12-07T13:40:01\.123Z/);
  const early = planRecovery(range, new Date('2026-12-06T02:00:19Z'));
  assert.ok(!early.ok);
  assert.match(early.reason, /earlier than the oldest base backup: the archive reaches from 2026-12-06T02:00:20Z/);
  const empty = planRecovery(parseRange(''), new Date());
  assert.ok(!empty.ok && /no base backup/.test(empty.reason));
});

test('--to-time needs its zone; the server gets the form its recovery_target_time check accepts', () => {
  assert.equal(parseToTime('2026-12-07T22:45:00+09:00'), '2026-12-07T13:45:00.000Z');
  assert.throws(() => parseToTime('2026-12-07 13:45'), /ISO time with its zone/);
  assert.throws(() => parseToTime('2026-12-07T13:45:00'), /ISO time with its zone/);
  assert.equal(serverTime('2026-12-07T13:45:00.5Z'), '2026-12-07 13:45:00.500+00');
});

test('the archive host must be another host than the database host', () => {
  const r = pitrConfig.safeParse({ database_host: 'nas', archive_host: 'nas', password: 'x' });
  assert.ok(!r.success);
  assert.match(r.error.issues[0]!.message, /another host than database_host/);
});
