// Which Swarm-published ports get a `from` limit in DOCKER-USER, on which
// node, from the stacks and the inventory: the published-ports role's task as
// site.ts builds it for each host of the operators' inventory and of the
// rehearsal's (nothing connects to any host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostContext } from '../../lib/model/host-context.ts';
import { Task } from '../../lib/model/task.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { plainVars } from '../../lib/runner/host-vars.ts';
import { publishedPorts, publishedPortsDefaults } from '../../roles/published-ports/index.ts';
import { CLUSTER_PLAYS } from '../../playbooks/cluster.ts';
import { REHEARSAL_PORTS_FROM, rehearsalInventoryText } from '../../scripts/lab/rehearsal.ts';
import { scratchDir } from '../helpers/run.ts';

interface Params {
  limits: { port: number; proto: string; from: string[] }[];
  persist: string;
}

/** The role's DOCKER-USER op for one host, with the host's variables as the runner types them. */
async function dockerUserOf(inventoryFile: string, host: string, extra: Record<string, unknown> = {}, dsm = false): Promise<Params> {
  const inv = await loadInventories([inventoryFile], { vaultPassphrase: () => 'homelab-example' });
  const allVars = { ...plainVars(inv.varsFor(host)), ...extra };
  const h = {
    name: host,
    vars: publishedPortsDefaults.parse(Object.fromEntries(Object.keys(publishedPortsDefaults.shape).filter((k) => k in allVars).map((k) => [k, allVars[k]]))),
    allVars,
    groups: [...inv.groupsOf(host)],
    hostVars: (n: string) => plainVars(inv.varsFor(n)),
    groupHosts: (g: string) => inv.hostsOf(g),
    fact: () => ({ present: dsm }),
  } as unknown as HostContext;
  const task = publishedPorts.tasks.find((t): t is Task => t instanceof Task && t.name.includes('DOCKER-USER'));
  assert.ok(task && typeof task.options.op === 'function', 'the role has the DOCKER-USER task');
  const op = task.options.op(h);
  assert.deepEqual(op.problems, []);
  assert.equal(op.kind, 'firewall.docker-user', `${host}: ${JSON.stringify(op.params)}`);
  return op.params as Params;
}

const limitOf = (p: Params, port: number) => p.limits.find((l) => l.port === port && l.proto === 'tcp')?.from;
const HOMELAB = 'inventory/homelab.yml';
const LAN = ['192.168.0.0/16'];

test('site.ts sets the limits with the swarm, on every swarm node, before the stacks publish', () => {
  const roles = CLUSTER_PLAYS.swarm().options.roles ?? [];
  assert.ok(roles.includes(publishedPorts as never), 'the swarm play (managers:workers) runs the published-ports role');
});

test("the operators' cluster (ingress): SGLang's 8000, Ollama's 11434 and Gitea's 3000 limited to the LAN on every node, the NAS too", async () => {
  for (const host of ['gateway.vibe.local', 'ai.vibe.local', 'data.vibe.local', 'cicd.vibe.local']) {
    const p = await dockerUserOf(HOMELAB, host);
    // ai.vibe.local declares 8000 and 11434; the routing mesh takes them on every node, so every node carries its limit.
    assert.deepEqual(limitOf(p, 8000), LAN, `${host} 8000`);
    assert.deepEqual(limitOf(p, 11434), LAN, `${host} 11434`);
    assert.deepEqual(limitOf(p, 3000), LAN, `${host} 3000`);
    // Ports no entry limits stay as Docker publishes them: the gateway's 80/443 (no from), Portainer's 9443 (no entry).
    for (const open of [80, 443, 9443, 8888]) assert.equal(limitOf(p, open), undefined, `${host} ${open} stays open`);
    assert.equal(p.persist, 'ufw', 'with UFW as the firewall, in its after.rules');
  }
});

test("the registry's 5000 is host mode on the cicd node: limited there only, whatever the publish mode", async () => {
  assert.deepEqual(limitOf(await dockerUserOf(HOMELAB, 'cicd.vibe.local'), 5000), LAN);
  for (const host of ['gateway.vibe.local', 'ai.vibe.local', 'data.vibe.local']) assert.equal(limitOf(await dockerUserOf(HOMELAB, host), 5000), undefined, host);
});

test("host mode: a port is limited only on the nodes the service's placement allows", async () => {
  const host = { service_publish_mode: 'host' };
  const ai = await dockerUserOf(HOMELAB, 'ai.vibe.local', host);
  assert.deepEqual([limitOf(ai, 8000), limitOf(ai, 11434)], [LAN, LAN]);
  for (const other of ['gateway.vibe.local', 'data.vibe.local', 'cicd.vibe.local']) {
    const p = await dockerUserOf(HOMELAB, other, host);
    assert.equal(limitOf(p, 8000), undefined, `${other}: SGLang cannot run there`);
    assert.equal(limitOf(p, 11434), undefined, other);
  }
  assert.deepEqual(limitOf(await dockerUserOf(HOMELAB, 'data.vibe.local', host), 3000), LAN, "Gitea's own node");
});

test("a node's own published_ports entry decides its limit; from any, or no entry, leaves the port open", async () => {
  // The gateway opens 8000 to any address: its mesh port stays open, the other nodes keep the ai node's limit.
  const gatewayPorts = [{ port: 80, proto: 'tcp' }, { port: 8000, proto: 'tcp' }];
  assert.equal(limitOf(await dockerUserOf(HOMELAB, 'gateway.vibe.local', { published_ports: gatewayPorts }), 8000), undefined);
  // Two entries for one port: both networks are let in.
  const ai = await dockerUserOf(HOMELAB, 'ai.vibe.local', { published_ports: [{ port: 8000, proto: 'tcp', from: '10.0.0.0/8' }, { port: '8000:8001', proto: 'tcp', from: '192.168.3.0/24' }] });
  assert.deepEqual(limitOf(ai, 8000), ['10.0.0.0/8', '192.168.3.0/24']);
  // No `from` anywhere in the inventory: nothing is limited, the op has nothing to load (as before this role).
  const file = path.join(scratchDir(), 'homelab.yml');
  writeFileSync(file, readFileSync(HOMELAB, 'utf8').replace(/, from: [^ }]+/g, ''));
  for (const h of ['gateway.vibe.local', 'ai.vibe.local', 'data.vibe.local', 'cicd.vibe.local']) assert.deepEqual((await dockerUserOf(file, h)).limits, [], h);
});

test('persisted by a unit of its own where UFW does not run: the iptables backend, a disabled firewall, DSM', async () => {
  assert.equal((await dockerUserOf(HOMELAB, 'ai.vibe.local', { firewall_backend: 'iptables' })).persist, 'unit');
  assert.equal((await dockerUserOf(HOMELAB, 'ai.vibe.local', { firewall_enabled: false })).persist, 'unit');
  const nas = await dockerUserOf(HOMELAB, 'data.vibe.local', {}, true);
  assert.equal(nas.persist, 'unit');
  assert.deepEqual(limitOf(nas, 8000), LAN, "the NAS takes the mesh's ports too");
});

test("the rehearsal: host mode, the lab's own addresses let in, and no more than them", async () => {
  const file = path.join(scratchDir(), 'rehearsal.yml');
  writeFileSync(file, rehearsalInventoryText());
  const ai = await dockerUserOf(file, 'ai.vibe.local');
  assert.deepEqual([limitOf(ai, 8000), limitOf(ai, 11434)], [[REHEARSAL_PORTS_FROM], [REHEARSAL_PORTS_FROM]]);
  assert.equal(ai.persist, 'unit', 'the rehearsal runs the iptables backend');
  assert.deepEqual(limitOf(await dockerUserOf(file, 'cicd.vibe.local'), 5000), [REHEARSAL_PORTS_FROM]);
  assert.deepEqual((await dockerUserOf(file, 'gateway.vibe.local')).limits, [], 'the gateway publishes nothing with a limit');
  // The nodes (.10-.13), this machine (.1) and the registry (.5) are inside; a lab container at .99 is not.
  const inside = (ip: string) => {
    const [net, bits] = REHEARSAL_PORTS_FROM.split('/') as [string, string];
    const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    return n(ip) >>> (32 - Number(bits)) === n(net) >>> (32 - Number(bits));
  };
  for (const ip of ['172.30.99.1', '172.30.99.5', '172.30.99.10', '172.30.99.11', '172.30.99.12', '172.30.99.13']) assert.ok(inside(ip), ip);
  assert.ok(!inside('172.30.99.99'));
});
