// Which images each swarm node pulls before a deploy: the real stack files
// read as the stacks role deploys them, placed by the inventory's labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imagesFor, inRunRegistryImages, inventoryServices, namedNodes, nodeOf, targetImagesFor } from '../../roles/stacks/pulls.ts';
import { composeServices } from '../../roles/stacks/services.ts';
import { parseCompose } from '../../lib/ops/docker/compose.ts';
import type { SwarmNode } from '../../roles/stacks/placement.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputError } from '../../lib/shell/errors.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { plainVars, resolveHostVars, typedVars } from '../../lib/runner/host-vars.ts';
import { stacksDefaults } from '../../roles/stacks/index.ts';

const node = (name: string, role: 'manager' | 'worker', label?: string): SwarmNode => ({ name, role, labels: label ? { role: label } : {} });
const gateway = node('gateway', 'manager');
const ai = node('ai', 'worker', 'ai');
const data = node('data', 'worker', 'data');
const cicd = node('cicd', 'worker', 'cicd');

const vars = {
  service_endpoint_mode: 'dnsrr' as const,
  service_publish_mode: 'host' as const,
  stacks_only: [] as string[],
  stack_images: { 'postgres:16': 'reg.lab:5000/lab/postgres:16' },
  stacks: [{ name: 'lab', file: 'stacks/lab.yml', env: { WEB_IMAGE: 'reg.lab:5000/lab/web:1', POSTGRES_IMAGE: 'postgres:16' } }],
};

test("each node pulls the images its placement allows: lab_web's on every worker, PostgreSQL's (mapped by stack_images) on the data node only", () => {
  const services = inventoryServices(vars);
  assert.deepEqual(imagesFor(gateway, services), [], 'the manager runs none of the lab stack');
  assert.deepEqual(imagesFor(ai, services), ['reg.lab:5000/lab/web:1']);
  assert.deepEqual(imagesFor(cicd, services), ['reg.lab:5000/lab/web:1']);
  assert.deepEqual(imagesFor(data, services), ['reg.lab:5000/lab/postgres:16', 'reg.lab:5000/lab/web:1'], 'each image once, though two services use it');
});

test('stacks_only limits the pulls to the stacks deployed; an unreadable stack file pulls nothing (the deploy reports it)', () => {
  assert.deepEqual(inventoryServices({ ...vars, stacks_only: ['other'] }), []);
  assert.deepEqual(inventoryServices({ ...vars, stacks: [{ name: 'gone', file: 'stacks/no-such.yml', env: {} }] }), []);
});

test('a replicated service scaled to 0 runs nowhere and is not pulled; a global one is pulled on every node it may run on', () => {
  const compose = parseCompose(`services:
  idle: { image: idle:1, deploy: { replicas: 0 } }
  agent: { image: agent:1, deploy: { mode: global } }
  gpu: { image: gpu:1, deploy: { mode: global, placement: { constraints: [node.labels.role == ai] } } }
`).compose!;
  const services = composeServices('s', compose);
  assert.deepEqual(imagesFor(gateway, services), ['agent:1']);
  assert.deepEqual(imagesFor(ai, services), ['agent:1', 'gpu:1']);
});

test("deploy.ts's targets: the new image on the nodes its service may run on; a service the inventory's stacks do not define is not pulled ahead", () => {
  const services = inventoryServices(vars);
  const targets = [
    { name: 'lab_postgres', image: 'reg.lab:5000/lab/postgres:17' },
    { name: 'elsewhere_app', image: 'app:2' },
  ];
  assert.deepEqual(targetImagesFor(data, services, targets), ['reg.lab:5000/lab/postgres:17']);
  assert.deepEqual(targetImagesFor(ai, services, targets), []);
  assert.deepEqual(targetImagesFor(gateway, services, targets), []);
});

async function stacksVars(yaml: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-pulls-'));
  writeFileSync(path.join(dir, 'hosts.yml'), yaml);
  const inv = await loadInventories([path.join(dir, 'hosts.yml')], { vaultPassphrase: () => 'test' });
  return typedVars(stacksDefaults, resolveHostVars(inv, 'h1', new Map(), new Map()), 'stacks', 'h1');
}

test('image_pull_stall_seconds: 120 by default, whole seconds from the inventory; a bad value names its file and line', async () => {
  assert.equal((await stacksVars('all:\n  hosts:\n    h1: {}\n')).image_pull_stall_seconds, 120);
  assert.equal((await stacksVars('all:\n  vars:\n    image_pull_stall_seconds: 300\n  hosts:\n    h1: {}\n')).image_pull_stall_seconds, 300);
  for (const bad of ['2m', '0'])
    await assert.rejects(
      stacksVars(`all:\n  hosts:\n    h1: {}\n  vars:\n    image_pull_stall_seconds: ${bad}\n`),
      (err: unknown) => err instanceof InputError && /hosts\.yml:5:\d+: variable image_pull_stall_seconds of stacks for host h1/.test(err.message),
      bad,
    );
});

test("the real cluster: the AI node pulls its three images; LangGraph's, from the registry the cicd stack serves, is tried only (a first run deploys that registry after the pulls)", async () => {
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => 'homelab-example' });
  const host = 'ai.vibe.local';
  const view = { groupHosts: (g: string) => inv.hostsOf(g), hostVars: (h: string) => plainVars(resolveHostVars(inv, h, new Map(), new Map())) };
  const v = typedVars(stacksDefaults, inv.varsFor(host), 'stacks', host);
  const me = nodeOf({ name: host, groups: [...inv.groupsOf(host)], allVars: view.hostVars(host) })!;
  assert.deepEqual(imagesFor(me, inventoryServices(v)), ['lmsysorg/sglang:v0.3.6-cu124', 'ollama/ollama:0.4.7', 'cicd.vibe.local:5000/vibe/langgraph-agent:1.4.0']);
  assert.deepEqual([...inRunRegistryImages(v, namedNodes(view))], [['cicd.vibe.local:5000/vibe/langgraph-agent:1.4.0', 'its registry is served by stack cicd']]);
});
