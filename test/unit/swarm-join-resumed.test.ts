// A resumed run (--resume) restores the earlier tasks' registered results,
// but never one that held a secret: the swarm's join tokens. A resumed
// worker that is already in the swarm must not need them (its join is ok,
// as in any run); one that still has to join fails with what to do. The
// lab's rehearsal-resume failed on this (a node already in the swarm,
// resumed from its base role, failed at "joined to the swarm").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { swarm } from '../../roles/swarm/index.ts';
import { WithheldResultError } from '../../lib/shell/errors.ts';
import type { HostContext } from '../../lib/model/host-context.ts';
import type { Task } from '../../lib/model/task.ts';
import type { ExecResult } from '../../lib/transport/types.ts';

const joinTask = swarm.tasks.find((t) => (t as Task<unknown>).name === 'joined to the swarm') as Task<unknown>;

/** The first manager's init result as a run record keeps it: no secret in it, so it is restored. */
const INIT = { nodeId: 'n-gw', clusterId: 'c1', isManager: true };

function resumedWorker(): HostContext<any> {
  return {
    name: 'ai',
    check: false,
    groups: ['workers'],
    vars: {},
    allVars: { ansible_host: '10.0.0.11' },
    groupHosts: (g: string) => (g === 'managers' ? ['gateway'] : []),
    resultOf: (_host: string, t: Task<unknown>) => {
      if (t.name === 'swarm initialised') return INIT;
      throw new WithheldResultError('the result of task "join tokens" held a secret, so run record R did not keep it');
    },
  } as unknown as HostContext<any>;
}

/** `docker info`'s JSON as the engine prints it, for a node in or out of a swarm. */
const info = (swarm: object) => ({ code: 0, stdout: Buffer.from(JSON.stringify({ ServerVersion: '20.10.24', Swarm: swarm })), stderr: Buffer.alloc(0) }) as unknown as ExecResult;

test('a resumed worker already in the swarm: its join is ok without the withheld tokens', () => {
  const op = (joinTask.options.op as (h: HostContext<any>) => any)(resumedWorker());
  const state = op.probe.parse(info({ LocalNodeState: 'active', NodeID: 'n-ai', ControlAvailable: false, Cluster: { ID: 'c1' } }));
  const d = op.decide(state);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
});

test('a resumed worker that still has to join: the join fails saying the tokens were not kept and to run without --resume', async () => {
  const op = (joinTask.options.op as (h: HostContext<any>) => any)(resumedWorker());
  const state = op.probe.parse(info({ LocalNodeState: 'inactive', NodeID: '' }));
  const d = op.decide(state);
  assert.equal(d.kind, 'change');
  await assert.rejects(d.apply({ run: async () => assert.fail('nothing runs without a token') }), /without --resume/);
});

test("a resumed worker in another swarm still fails as in any run: the init result's cluster id is kept", () => {
  const op = (joinTask.options.op as (h: HostContext<any>) => any)(resumedWorker());
  const state = op.probe.parse(info({ LocalNodeState: 'active', NodeID: 'n-ai', ControlAvailable: false, Cluster: { ID: 'other-cluster' } }));
  const d = op.decide(state);
  assert.equal(d.kind, 'fail', JSON.stringify(d));
  assert.match(d.reason, /already in another swarm/);
});
