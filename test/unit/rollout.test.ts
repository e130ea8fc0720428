import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digestOf, parseHistory, pinImage, previousImage, updateOrder, updateVerdict, type DeployRecord } from '../../lib/ops/docker/rollout/rollout.ts';
import { parseDeployState, planDeploy } from '../../lib/ops/docker/deploy.ts';
import { parseRoom } from '../../lib/ops/docker/deploy-precheck.ts';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

test('a paused update and every rollback state are failures after an update; only updating is pending', () => {
  for (const s of ['paused', 'rollback_started', 'rollback_paused', 'rollback_completed']) assert.equal(updateVerdict(s), 'failed', s);
  assert.equal(updateVerdict('updating'), 'pending');
  assert.equal(updateVerdict('completed'), 'done');
  assert.equal(updateVerdict(undefined), 'done');
});

test('after a rollback rigger asked for, a completed rollback is the goal and a paused one a failure', () => {
  assert.equal(updateVerdict('rollback_completed', 'rollback'), 'done');
  assert.equal(updateVerdict('rollback_started', 'rollback'), 'pending');
  assert.equal(updateVerdict('rollback_paused', 'rollback'), 'failed');
});

test('a host-mode port forces stop-first and says why, even with a health check', () => {
  const d = updateOrder({ EndpointSpec: { Ports: [{ PublishMode: 'host', PublishedPort: 8080 }] }, TaskTemplate: { ContainerSpec: { Healthcheck: { Test: ['CMD', 'true'] } } } });
  assert.equal(d.order, 'stop-first');
  assert.match(d.reason, /8080 in host mode/);
});

test('start-first only with a health check and no host-mode port', () => {
  assert.equal(updateOrder({ TaskTemplate: { ContainerSpec: { Healthcheck: { Test: ['CMD', 'pg_isready'] } } } }).order, 'start-first');
  assert.equal(updateOrder({ EndpointSpec: { Ports: [{ PublishMode: 'ingress', PublishedPort: 80 }] }, TaskTemplate: { ContainerSpec: { Healthcheck: { Test: ['CMD', 'true'] } } } }).order, 'start-first');
  const none = updateOrder({ TaskTemplate: { ContainerSpec: { Healthcheck: { Test: ['NONE'] } } } });
  assert.equal(none.order, 'stop-first');
  assert.match(none.reason, /no health check/);
});

test('an image is pinned to its digest, replacing an old pin', () => {
  assert.equal(pinImage('reg:5000/lab/web:1', D1), `reg:5000/lab/web:1@${D1}`);
  assert.equal(pinImage(`reg:5000/lab/web:1@${D1}`, D2), `reg:5000/lab/web:1@${D2}`);
  assert.equal(digestOf(`x:1@${D2}`), D2);
  assert.equal(digestOf('x:1'), undefined);
});

const rec = (outcome: DeployRecord['outcome'], from: string, to: string): DeployRecord => ({ at: 't', user: 'u', action: 'deploy', outcome, services: [{ name: 'web', from, to }] });

test('the previous image is the from of the N-th last good change; failed runs and unreadable lines do not count', () => {
  const text = [rec('ok', 'a', 'b'), rec('ok', 'b', 'c'), rec('rolled back', 'c', 'bad')].map((r) => JSON.stringify(r)).join('\n') + '\n{"cut short';
  const h = parseHistory(text);
  assert.equal(h.length, 3);
  assert.equal(previousImage(h, 'web'), 'b');
  assert.equal(previousImage(h, 'web', 2), 'a');
  assert.equal(previousImage(h, 'web', 3), undefined);
  assert.equal(previousImage(h, 'db'), undefined);
});

const spec = (image: string) => JSON.stringify({ Name: 'lab_web', TaskTemplate: { ContainerSpec: { Image: image } }, EndpointSpec: { Ports: [{ PublishMode: 'host', PublishedPort: 8080 }] } });
const params = { services: [{ name: 'lab_web', image: 'r/web:2' }], checks: [], retries: 0, delaySeconds: 0, timeoutSeconds: 1, user: 'u', action: 'deploy' };

test('a deploy plans the pinned image for a service that runs another, with its order', () => {
  const s = parseDeployState(`@@service lab_web\n${spec('r/web:1')}\n@@manifest r/web:2 {"Descriptor":{"digest":"${D2}"}}\n`);
  const { changes, problems } = planDeploy(params, s);
  assert.deepEqual(problems, []);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.to, `r/web:2@${D2}`);
  assert.equal(changes[0]!.order?.order, 'stop-first');
});

test('a service already on the pinned digest plans nothing; a missing service and an unresolved tag are problems', () => {
  assert.equal(planDeploy(params, parseDeployState(`@@service lab_web\n${spec(`r/web:2@${D2}`)}\n@@digest r/web:2 ${D2}\n`)).changes.length, 0);
  const bad = planDeploy(params, parseDeployState('@@service lab_web\n@@missing\n@@digest r/web:2 @@unresolved\n'));
  assert.match(bad.problems.join(), /no service lab_web/);
  const unresolved = planDeploy(params, parseDeployState(`@@service lab_web\n${spec('r/web:1')}\n@@digest r/web:2 @@unresolved\n`));
  assert.match(unresolved.problems.join(), /cannot resolve r\/web:2/);
});

test('the pre-check reads which services a node runs, the use of every real mount and free memory', () => {
  const df = ['/ overlay 86%', '/var/lib/docker ext4 12%', '/volume1 ext4 40%', '/mnt/ai-models nfs4 91%', '/proc proc 0%', '/run tmpfs 3%', '/var/lib/docker/overlay2/abc/merged overlay 86%'];
  const room = parseRoom(`@@runs lab_web\n${df.map((l) => `@@disk ${l}`).join('\n')}\n@@mem 2097152\n`);
  assert.deepEqual(room, { runs: ['lab_web'], disks: { '/': 86, '/var/lib/docker': 12, '/volume1': 40, '/mnt/ai-models': 91 }, memAvailableMb: 2048 });
});

test("a stack's service gets its stack image label moved with the image, so a later stack deploy reverts it", () => {
  const labelled = JSON.stringify({ Name: 'lab_web', Labels: { 'com.docker.stack.image': 'r/web:1' }, TaskTemplate: { ContainerSpec: { Image: 'r/web:1' } } });
  const [c] = planDeploy(params, parseDeployState(`@@service lab_web\n${labelled}\n@@digest r/web:2 ${D2}\n`)).changes;
  assert.deepEqual(c!.args.slice(-2), ['--label-add', `com.docker.stack.image=r/web:2@${D2}`]);
  const [plain] = planDeploy(params, parseDeployState(`@@service lab_web\n${spec('r/web:1')}\n@@digest r/web:2 ${D2}\n`)).changes;
  assert.ok(!plain!.args.includes('--label-add'), 'a service outside a stack gets no stack label');
});
