import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { definePlay, ops, secret } from '../../lib/index.ts';
import { gatedRollout } from '../../lib/ops/docker/rollout/health-gated.ts';
import type { Transport } from '../../lib/transport/types.ts';
import { runCli } from '../helpers/cli.ts';
import { ensureLab, resetLab } from '../helpers/lab.ts';
import { labShell, waitFor } from '../helpers/data-node.ts';
import { nodeTransport } from '../helpers/node.ts';
import { remoteOf } from '../helpers/remote.ts';
import { runPlays } from '../helpers/run.ts';

// Swarm changes that must never touch what they were not asked to (issue 27,
// items 4 and 5), on the lab's real swarm. It reuses the converged lab and
// leaves it as it found it: its services and secrets have names of their own
// and are removed at the end.
let inv: string;
let WEB: string;
let gatewayTransport: Transport;
const { node } = labShell(() => inv);

const gateway = async (script: string) => {
  const r = await node('gateway', script);
  if (r.code !== 0) throw new Error(`gateway: ${script}\n${r.stderr}`);
  return r.stdout.trim();
};
const specOf = (svc: string) => gateway(`docker service inspect --format '{{json .Spec}}' ${svc}`);
const secrets = async (prefix: string) => (await gateway(`docker secret ls --format '{{.Name}}'`)).split('\n').filter((s) => s.startsWith(prefix)).sort();


before(async () => {
  inv = ensureLab();
  WEB = /WEB_IMAGE: (\S+)/.exec(readFileSync(inv, 'utf8'))![1]!;
  // A swarm with the lab stack is reused as it is; anything else is converged from fresh nodes.
  const swarm = await node('gateway', `docker service inspect --format '{{.Spec.Name}}' lab_web`);
  if (swarm.code !== 0) {
    resetLab();
    const r = await runCli(['playbooks/site.ts'], {}, 15 * 60_000);
    assert.equal(r.code, 0, `site.ts converges the lab:\n${r.stdout}\n${r.stderr}`);
  }
  gatewayTransport = await nodeTransport(inv, 'gateway');
});

after(async () => {
  await node('gateway', `docker service rm item4-a item4-b >/dev/null 2>&1; docker secret rm $(docker secret ls -q --filter name=item5) >/dev/null 2>&1; true`);
  await gatewayTransport?.close();
});

test('item 4: an update the swarm refuses is not rolled back: its spec after the failed run equals the spec before it, and the applied one goes back', async () => {
  // Two services, each deployed twice already (STEP=1, then STEP=2), so each has a PreviousSpec
  // a rollback would return to: the spec before its previous deploy.
  await gateway(`docker service rm item4-a item4-b >/dev/null 2>&1; for s in item4-a item4-b; do
    docker service create --detach --quiet --name $s --env STEP=1 ${WEB} >/dev/null || exit 1
    docker service update --detach --quiet --env-add STEP=2 $s >/dev/null || exit 1
  done`);
  await waitFor('both services to run their STEP=2 spec', async () => (await gateway(`docker service ls --filter name=item4- --format '{{.Replicas}}'`)) === '1/1\n1/1' && !(await gateway(`docker service inspect --format '{{.UpdateStatus.State}}' item4-a item4-b`)).includes('updating'), 120_000);
  const before = { a: await specOf('item4-a'), b: await specOf('item4-b') };
  assert.match(before.b, /STEP=2/);

  // item4-a's update applies; item4-b's names a secret that does not exist, so `docker service update` itself fails.
  const run = gatedRollout(remoteOf(gatewayTransport), {
    action: 'item 4 test',
    user: 'test',
    changes: [
      { name: 'item4-a', from: 'STEP=2', to: 'STEP=3', args: ['--env-add', 'STEP=3'] },
      { name: 'item4-b', from: 'STEP=2', to: 'a missing secret', args: ['--secret-add', 'item4-no-such-secret'] },
    ],
    checks: [],
    retries: 0,
    delaySeconds: 0,
    timeoutSeconds: 120,
  });
  const err = await run.then(() => assert.fail('the run must fail'), (e: Error) => e);
  assert.equal(await specOf('item4-b'), before.b, 'the refused service keeps the spec it had, not the one before its previous deploy');
  assert.equal(await specOf('item4-a'), before.a, 'the applied update is rolled back to the spec before this run');
  assert.match(err.message, /item4-b: the rollout failed:[\s\S]*item4-no-such-secret/);
  assert.match(err.message, /rolled back item4-a: /, 'only the service whose update applied is rolled back');
});

test('item 5: rotating a secret removes its unused versions only, never another secret whose name starts like one', async () => {
  const play = (value: string) =>
    definePlay({ name: 'item 5', hosts: 'gateway', tasks: ({ task }) => [task({ name: 'secret', op: ops.docker.secret({ name: 'item5', value: secret(value) }) })] });
  await gateway(`docker secret rm $(docker secret ls -q --filter name=item5) >/dev/null 2>&1; true`);
  const first = await runPlays(inv, [play('first value')]);
  assert.equal(first.summary.exitCode, 0);
  // Secrets of someone else's whose names look like versions but are not NAME_v<digits>.
  await gateway(`for s in item5_v2_old item5_v3x item5_v; do printf keep | docker secret create $s - >/dev/null || exit 1; done`);
  const rotated = await runPlays(inv, [play('second value')]);
  assert.equal(rotated.summary.exitCode, 0);
  assert.deepEqual(await secrets('item5'), ['item5_v', 'item5_v2', 'item5_v2_old', 'item5_v3x'], 'the new version kept, the old one removed, the look-alikes untouched');
  const third = await runPlays(inv, [play('third value')]);
  assert.equal(third.summary.exitCode, 0);
  assert.deepEqual(await secrets('item5'), ['item5_v', 'item5_v2_old', 'item5_v3', 'item5_v3x'], 'the look-alike item5_v3x is not taken for version 3');
});
