import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opWaitKind, Profiler, waitKindOf } from '../../lib/model/profile.ts';
import { each } from '../../lib/ops/each.ts';
import { ops } from '../../lib/index.ts';

test('waitKindOf: apt, the Docker engine and health checks are waits; file and command ops are rigger\'s own', () => {
  assert.equal(waitKindOf('apt.packages'), 'apt');
  assert.equal(waitKindOf('docker.stack'), 'docker');
  assert.equal(waitKindOf('docker.swarm.join'), 'docker');
  assert.equal(waitKindOf('docker.health'), 'health');
  for (const k of ['files.copy', 'command', 'shell', 'systemd.unit', 'postgres.databases']) assert.equal(waitKindOf(k), undefined, k);
  // ops.each takes a free label as its kind: its members' common wait is its own.
  const stacks = each('stacks', [ops.docker.stack({ name: 'a', file: 'stacks/lab.yml' }), ops.docker.stack({ name: 'b', file: 'stacks/lab.yml' })]);
  assert.equal(opWaitKind(stacks), 'docker');
  assert.equal(opWaitKind(each<unknown>('mixed', [ops.docker.stack({ name: 'a', file: 'stacks/lab.yml' }), ops.file({ path: '/tmp/x', state: 'directory' })])), undefined);
});

test('Profiler: round trips inside a wait count as trips but their time is the wait\'s; the remote estimate is each trip beyond the fastest', () => {
  const p = new Profiler();
  p.startPlay('one', ['a']);
  p.connected('a', 30);
  p.connected('a', 99); // counted once
  p.roundTrip('a', 'probe', 10, false);
  p.roundTrip('a', 'change', 25, false);
  p.roundTrip('a', 'change', 400, true);
  p.waited('a', 'docker', 500);
  p.endPlay();
  p.startPlay('two', ['a', 'b']);
  p.roundTrip('a', 'probe', 12, false);
  const r = p.result();
  const one = r.plays[0]!.hosts.a!;
  assert.equal(one.connectMs, 30);
  assert.deepEqual(one.probes, { count: 1, ms: 10 });
  assert.deepEqual(one.changes, { count: 2, ms: 25 }, 'the trip inside the wait is counted, its time is not');
  assert.equal(one.waits.docker, 500);
  assert.equal(one.remoteMs, 0 + 15 + 390);
  assert.equal(r.plays[1]!.hosts.a!.remoteMs, 2);
  assert.equal(r.plays[1]!.hosts.b!.probes.count, 0, 'a host of the play with no trips is listed with zeros');
  assert.equal(r.hosts.a!.probes.count, 2);
  assert.equal(r.hosts.a!.connectMs, 30);
  assert.ok(one.otherMs >= 0);
});
