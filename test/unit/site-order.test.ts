// site.ts makes the applications' databases right after the stack that runs
// their PostgreSQL and before the stacks listed after it (issue 29, items 7
// and 8): LangGraph's healthcheck passes only once its database exists, so
// with the databases after every stack its first run never converged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadInventories } from '../../lib/inventory/load.ts';
import { plainVars } from '../../lib/runner/host-vars.ts';
import { CLUSTER_ROLES, sitePlays } from '../../playbooks/cluster.ts';
import { stacksAroundDatabases } from '../../roles/stacks/database-order.ts';
import { scratchDir } from '../helpers/run.ts';
import type { Task } from '../../lib/model/task.ts';
import type { HostContext } from '../../lib/model/host-context.ts';

const context = async (file: string) => {
  const inventory = await loadInventories([file], { vaultPassphrase: () => 'homelab-example' });
  return { inventory, hostVars: (h: string) => plainVars(inventory.varsFor(h)) };
};

const named = (...names: string[]) => names.map((name) => ({ name }));

test('the stacks split after the one whose service runs the databases, in list order', () => {
  assert.deepEqual(stacksAroundDatabases(named('gateway', 'data', 'cicd', 'ai'), ['gateway_postgres']), { first: ['gateway'], after: ['data', 'cicd', 'ai'] });
  assert.deepEqual(stacksAroundDatabases(named('web', 'db', 'ai'), ['db_pg']), { first: ['web', 'db'], after: ['ai'] });
  // A stack named like the start of another's name does not take its service.
  assert.deepEqual(stacksAroundDatabases(named('gate', 'gateway', 'ai'), ['gateway_postgres']), { first: ['gate', 'gateway'], after: ['ai'] });
  assert.equal(stacksAroundDatabases(named('gateway', 'ai'), []), undefined, 'no databases to make');
  assert.equal(stacksAroundDatabases(named('web', 'ai'), ['gateway_postgres']), undefined, 'PostgreSQL in none of the stacks');
  assert.equal(stacksAroundDatabases(named('ai', 'gateway'), ['gateway_postgres']), undefined, 'PostgreSQL in the last stack: the databases after every stack, as before');
});

test("site.ts on the operators' inventory: the gateway stack (PostgreSQL), the databases, then data, cicd and ai (LangGraph)", async () => {
  const plays = sitePlays(await context('inventory/homelab.yml'));
  const names = plays.map((p) => p.options.name);
  assert.deepEqual(names, ['base', 'docker', 'nvidia', 'swarm', 'networks', 'nfs', 'stacks', 'databases', 'stacks after the databases', 'monitoring', 'health', 'pitr']);
  assert.deepEqual(plays[names.indexOf('stacks')]!.options.vars, { stacks_only: ['gateway'] });
  assert.deepEqual(plays[names.indexOf('stacks after the databases')]!.options.vars, { stacks_only: ['data', 'cicd', 'ai'] });
  assert.equal(plays[names.indexOf('databases')]!.options.hosts, 'all');
  // Both halves are the stacks play itself: every node pulls the images its placement allows before the manager
  // deploys, and a failed pull on any node stops the play (review finding: the split plays ran on managers only).
  for (const name of ['stacks', 'stacks after the databases']) {
    const o = plays[names.indexOf(name)]!.options;
    assert.deepEqual([o.hosts, o.anyErrorsFatal], ['managers:workers', true], name);
  }
});

test('an inventory with no databases among its stacks keeps one play per role, in the roles order', async () => {
  const file = path.join(scratchDir(), 'hosts.yml');
  writeFileSync(file, 'all:\n  vars:\n    stacks:\n      - { name: lab, file: stacks/ai.yml }\n  children:\n    managers:\n      hosts:\n        m1: {}\n');
  const plays = sitePlays(await context(file));
  assert.deepEqual(
    plays.map((p) => p.options.name),
    [...CLUSTER_ROLES],
  );
  assert.equal(plays.find((p) => p.options.name === 'stacks')!.options.vars, undefined);
});

// postgres_pitr declares WAL archiving: a converge leaves it running (the daily check reads its slot), not only
// the nightly backup.ts. A second converge takes no base backup: only when the archive holds none of this cluster.
test("site.ts with postgres_pitr ends by starting point-in-time archiving on its two hosts, a base backup only when none of this cluster exists", async () => {
  const ctx = await context('inventory/homelab.yml');
  const plays = sitePlays(ctx);
  const pitr = plays.at(-1)!;
  assert.deepEqual(pitr.options.roles?.map((r) => r.name), ['pitr'], plays.map((p) => p.options.name).join(', '));
  assert.equal(pitr.options.hosts, 'data.vibe.local:ai.vibe.local');
  const role = pitr.options.roles![0]!;
  const tasks = role.tasks as Task<unknown, any>[];
  assert.deepEqual(tasks.map((t) => t.name), ['wal archiving settings', 'wal archiver', 'base backup']);
  const vars = { postgres_pitr: ctx.hostVars('ai.vibe.local').postgres_pitr, stack_images: {} };
  const opOf = (t: Task<unknown, any>, h: HostContext<any>) => (typeof t.options.op === 'function' ? t.options.op(h) : t.options.op);
  const base = opOf(tasks[2]!, { name: 'ai.vibe.local', vars, check: false } as unknown as HostContext<any>) as { params: { ifNoneOfThisCluster?: boolean } };
  assert.equal(base.params.ifNoneOfThisCluster, true, 'the converge takes a base backup only when none of this cluster is archived');
  // The nightly backup.ts keeps taking one every night.
  const { pitrArchive } = await import('../../roles/pitr/index.ts');
  const nightly = opOf((pitrArchive.tasks as Task<unknown, any>[])[2]!, { name: 'ai.vibe.local', vars, check: false } as unknown as HostContext<any>) as { params: { ifNoneOfThisCluster?: boolean } };
  assert.equal(nightly.params.ifNoneOfThisCluster, false);
});
