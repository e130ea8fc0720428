// Which nodes take each port the stacks publish (ingress: every swarm node;
// host mode: the nodes the placement allows), from the operators' inventory;
// and preflight's verdict over a node's listeners as `ss` and `docker ps` print them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadInventories } from '../../lib/inventory/load.ts';
import { plainVars } from '../../lib/runner/host-vars.ts';
import type { Fact } from '../../lib/model/fact.ts';
import { preflightVars } from '../../roles/preflight.ts';
import { listeners, parseContainers, parseListeners, portsCheck, portsOnNode, publishingContainers, type Listener, type PublishingContainer } from '../../roles/preflight-ports.ts';
import { eligible, nodesTaking, publishedPorts, swarmNodeOf, type SwarmNode } from '../../roles/stacks/placement.ts';
import { readInventoryStack } from '../../roles/stacks/read.ts';

const DSM_PORTS = [80, 443, 5000, 5001];

async function homelab(overrides: Record<string, unknown> = {}) {
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => 'homelab-example' });
  const host = (name: string) => {
    const allVars = { ...plainVars(inv.varsFor(name)), ...overrides };
    return { name, groups: [...inv.groupsOf(name)], allVars, vars: preflightVars.parse(allVars) };
  };
  const nodes = inv.hostNames().flatMap((n) => swarmNodeOf(n, [...inv.groupsOf(n)], plainVars(inv.varsFor(n))) ?? []);
  return { inv, host, nodes };
}

test("the operators' stacks: which nodes take each published port", async () => {
  const { host, nodes } = await homelab();
  assert.deepEqual(nodes.map((n) => [n.name, n.role, n.labels.role]), [
    ['gateway.vibe.local', 'manager', 'manager'],
    ['ai.vibe.local', 'worker', 'ai'],
    ['data.vibe.local', 'worker', 'data'],
    ['cicd.vibe.local', 'worker', 'cicd'],
  ]);
  const v = host('gateway.vibe.local').vars;
  const taken = new Map<string, string[]>();
  for (const s of v.stacks) {
    const read = readInventoryStack(v, s, {});
    assert.equal(read.problems, undefined, s.file);
    for (const p of publishedPorts(s.name, read.compose!)) taken.set(`${p.service} ${p.port}/${p.proto} ${p.mode}`, nodesTaking(p, nodes));
  }
  const all = nodes.map((n) => n.name);
  assert.deepEqual(taken.get('gateway_npm 80/tcp host'), ['gateway.vibe.local']);
  assert.deepEqual(taken.get('gateway_npm 443/tcp host'), ['gateway.vibe.local']);
  assert.deepEqual(taken.get('cicd_registry 5000/tcp host'), ['cicd.vibe.local']);
  assert.deepEqual(taken.get('ai_sglang 8000/tcp ingress'), all, 'the routing mesh takes an ingress port on every node');
  assert.deepEqual(taken.get('data_gitea 3000/tcp ingress'), all);
});

test("no port of the operators' stacks lands on DSM's own 80, 443, 5000 or 5001 on the NAS, in ingress mode or the rehearsal's host mode", async () => {
  for (const mode of ['ingress', 'host'] as const) {
    const { host } = await homelab({ service_publish_mode: mode });
    const { ports, problems } = portsOnNode(host('data.vibe.local'));
    assert.deepEqual(problems, []);
    assert.ok(ports.length > 0, 'the data node takes ports');
    assert.deepEqual(ports.filter((p) => DSM_PORTS.includes(p.port)).map((p) => `${p.service} ${p.port}`), [], mode);
  }
  // The rehearsal's host mode: only the data stack's own ports on the data node.
  const { host } = await homelab({ service_publish_mode: 'host' });
  assert.deepEqual(portsOnNode(host('data.vibe.local')).ports.map((p) => `${p.service} ${p.port}`).sort(), ['data_gitea 2222', 'data_gitea 3000', 'data_redmine 3002']);
});

test('placement constraints: role, labels, hostname (inventory name or its first label), and attributes the inventory cannot know', () => {
  const gw: SwarmNode = { name: 'gateway.vibe.local', role: 'manager', labels: {} };
  const data: SwarmNode = { name: 'data.vibe.local', role: 'worker', labels: { role: 'data', disk: 'ssd' } };
  assert.equal(eligible(gw, ['node.role == manager']), true);
  assert.equal(eligible(data, ['node.role == manager']), false);
  assert.equal(eligible(data, ['node.role != manager']), true);
  assert.equal(eligible(data, ['node.labels.role == data', 'node.labels.disk == ssd']), true);
  assert.equal(eligible(gw, ['node.labels.role == data']), false, 'a label the node lacks does not match ==');
  assert.equal(eligible(gw, ['node.labels.role != data']), true);
  assert.equal(eligible(data, ['node.hostname == data']), true);
  assert.equal(eligible(data, ['node.hostname == data.vibe.local']), true);
  assert.equal(eligible(gw, ['node.hostname == data']), false);
  assert.equal(eligible(gw, ['node.platform.arch == aarch64']), true, 'unknown to the inventory: does not narrow');
  assert.equal(eligible(gw, []), true, 'no constraint: every node (global or replicated)');
  const ports = publishedPorts('s', {
    services: {
      a: { image: 'x', ports: ['8080:80', '127.0.0.1:9000-9001:9000-9001/udp', 53, { target: 1, published: '7000', mode: 'host' }], deploy: { mode: 'global', placement: { constraints: ['node.role == manager'] } } },
    },
  });
  assert.deepEqual(ports.map((p) => `${p.port}/${p.proto} ${p.mode}`), ['8080/tcp ingress', '9000/udp ingress', '9001/udp ingress', '7000/tcp host']);
  assert.deepEqual(nodesTaking(ports[3]!, [gw, data]), ['gateway.vibe.local'], 'a global service in host mode: on the eligible nodes');
});

test('ss and docker ps as they print: the listeners and the containers behind docker-proxy', () => {
  const ss = [
    '@@ss',
    'tcp   LISTEN 0      511          0.0.0.0:5000       0.0.0.0:*    users:(("nginx",pid=8819,fd=6),("nginx",pid=8820,fd=6))',
    'tcp   LISTEN 0      4096            [::]:3000          [::]:*    users:(("dockerd",pid=901,fd=40))',
    'udp   UNCONN 0      0            0.0.0.0:2049       0.0.0.0:*',
  ].join('\n');
  assert.deepEqual(parseListeners(ss), [
    { proto: 'tcp', port: 5000, process: 'nginx', pid: 8819 },
    { proto: 'tcp', port: 3000, process: 'dockerd', pid: 901 },
    { proto: 'udp', port: 2049, process: '' },
  ]);
  // net-tools' netstat, as a Synology NAS prints it (its web server is nginx).
  const netstat = ['@@netstat', 'Active Internet connections (only servers)', 'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name', 'tcp        0      0 0.0.0.0:5001            0.0.0.0:*               LISTEN      8819/nginx: master', 'tcp6       0      0 :::5000                 :::*                    LISTEN      8819/nginx: master', 'udp        0      0 0.0.0.0:111             0.0.0.0:*                           -'].join('\n');
  assert.deepEqual(parseListeners(netstat), [
    { proto: 'tcp', port: 5001, process: 'nginx', pid: 8819 },
    { proto: 'tcp', port: 5000, process: 'nginx', pid: 8819 },
    { proto: 'udp', port: 111, process: '' },
  ]);
  assert.equal(parseListeners('@@none\n'), undefined);
  assert.deepEqual(parseContainers('web.1.abc\tlab_web\t0.0.0.0:8080->8080/tcp, :::8080->8080/tcp\nold\t\t0.0.0.0:9000-9001->9000-9001/udp\n'), [
    { name: 'web.1.abc', service: 'lab_web', ports: [{ port: 8080, proto: 'tcp' }, { port: 8080, proto: 'tcp' }] },
    { name: 'old', service: '', ports: [{ port: 9000, proto: 'udp' }, { port: 9001, proto: 'udp' }] },
  ]);
});

test("preflight's verdict on the NAS: DSM's web server on a port the stacks take fails naming node, port and process; the stacks' own Docker listeners do not", async () => {
  const node = async (overrides: Record<string, unknown>, open: Listener[], containers: PublishingContainer[] = []) => {
    const { host } = await homelab(overrides);
    const facts = new Map<Fact<unknown>, unknown>([[listeners, open], [publishingContainers, containers]]);
    return portsCheck({ ...host('data.vibe.local'), fact: <F>(f: Fact<F>) => facts.get(f as Fact<unknown>) as F });
  };
  const dsm: Listener[] = DSM_PORTS.map((port) => ({ proto: 'tcp', port, process: 'nginx', pid: 8819 }));
  assert.equal((await node({}, dsm)).level, 'pass', "the operators' stacks leave DSM's ports alone");
  const rerun = await node({}, dsm.concat({ proto: 'tcp', port: 3000, process: 'dockerd', pid: 901 }), []);
  assert.equal(rerun.level, 'pass', 'dockerd on gitea 3000: the mesh of the deployed stack itself');
  // The registry as it was: in ingress mode, onto every node.
  const { host } = await homelab();
  const v = host('data.vibe.local');
  const ingressEverywhere = { ...v.allVars, stacks: [{ name: 'cicd', file: 'test/fixtures/stacks/registry-ingress.yml' }] };
  const f = await node(ingressEverywhere, dsm);
  assert.equal(f.level, 'fail');
  assert.match(f.detail, /^data\.vibe\.local: 5000\/tcp, published by cicd_registry \(ingress: every node\), is held by nginx \(pid 8819\)$/);
  // docker-proxy of a container started outside Swarm on the same port is a collision too, named.
  const proxy = await node(ingressEverywhere, [{ proto: 'tcp', port: 5000, process: 'docker-proxy', pid: 77 }], [{ name: 'synology_registry', service: '', ports: [{ port: 5000, proto: 'tcp' }] }]);
  assert.match(proxy.detail, /5000\/tcp, published by cicd_registry .* is held by docker-proxy for container synology_registry \(not a swarm service\)/);
  const blind = await node(ingressEverywhere, undefined as unknown as Listener[]);
  assert.deepEqual([blind.level, blind.detail], ['warn', 'cannot list what listens here (neither ss nor netstat): 5000/tcp unchecked']);
  const own = await node(ingressEverywhere, [{ proto: 'tcp', port: 5000, process: 'docker-proxy', pid: 77 }], [{ name: 'cicd_registry.1.x', service: 'cicd_registry', ports: [{ port: 5000, proto: 'tcp' }] }]);
  assert.equal(own.level, 'pass', own.detail);
});
