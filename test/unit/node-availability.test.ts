import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeAvailability, parseNodeState } from '../../lib/ops/docker/node-availability.ts';

test('a node with tasks reads as its availability and the services of its running tasks', () => {
  assert.deepEqual(parseNodeState('active\nlab_web.1\nlab_web.2\nmon_agent.k3j2h1\n'), { availability: 'active', services: ['lab_web', 'mon_agent'] });
  assert.match(parseNodeState('@@error Error: No such node: nope').error!, /No such node/);
});

test('drain is done only when the node is drained and runs nothing; active needs no wait', () => {
  const drain = nodeAvailability({ node: 'ai', availability: 'drain' });
  assert.equal(drain.decide({ availability: 'drain', services: [] }).kind, 'ok');
  const half = drain.decide({ availability: 'drain', services: ['lab_web'] });
  assert.equal(half.kind, 'change', 'a drained node that still runs tasks is waited on again');
  const fresh = drain.decide({ availability: 'active', services: ['lab_web'] });
  assert.equal(fresh.kind, 'change');
  assert.match((fresh as { msg: string }).msg, /active -> drain \(moves lab_web\)/);
  assert.equal(nodeAvailability({ node: 'ai', availability: 'active' }).decide({ availability: 'active', services: ['lab_web'] }).kind, 'ok');
});
