import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeHolder, parseHeld, staleReason } from '../../lib/strategies/deploy-lock.ts';

const holder = { user: 'alice', action: 'stack lab', at: '2026-11-26T10:00:00.000Z', host: 'ctl', pid: 4242 };

test("a held lock names its holder; an owner rigger did not write is shown as it is", () => {
  const held = parseHeld(`@@held 7\n${JSON.stringify(holder)}\n`);
  assert.equal(held.idleSeconds, 7);
  assert.equal(describeHolder(held), 'alice stack lab since 2026-11-26T10:00:00.000Z, pid 4242 on ctl');
  assert.equal(describeHolder(parseHeld('@@held 3\nalice deploy 2026-01-01T00:00:00Z\n')), 'alice deploy 2026-01-01T00:00:00Z');
});

test('a lock is stale when its process on this controller is gone, or its heartbeat stopped; a live holder keeps it', () => {
  const held = parseHeld(`@@held 5\n${JSON.stringify(holder)}\n`);
  assert.match(staleReason(held, { host: 'ctl', alive: () => false })!, /its process 4242 on ctl is gone/);
  assert.equal(staleReason(held, { host: 'ctl', alive: () => true }), undefined);
  assert.equal(staleReason(held, { host: 'other', alive: () => false }), undefined, "another controller's process cannot be seen from here: only its heartbeat counts");
  assert.match(staleReason(parseHeld(`@@held 600\n${JSON.stringify(holder)}\n`), { host: 'other', alive: () => true })!, /not touched it for 600 s \(stale after 120 s\)/);
  assert.match(staleReason(parseHeld('@@held 600\nhand-made\n'), { host: 'ctl', alive: () => true })!, /600 s/);
});
