// preflight.ts's port check run as a user runs it, on this machine over the
// local connection, with a real listener planted by this test: a port a stack
// publishes that something already holds on a node that takes it fails the
// run (exit 2) naming the node, the port and the process; placement decides
// which nodes take a host-mode port, ingress mode takes it on every node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/run.ts';

/** A listener of this test process on a free loopback port: `ss` names it node, with this pid. */
async function plant(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** A scratch inventory (one manager, `gateway`, labelled role=gateway) whose one stack publishes `port` with this placement. */
function inventory(port: number, constraint: string, publishMode: 'host' | 'ingress'): string {
  const dir = scratchDir();
  const stack = path.join(dir, 'web.yml');
  writeFileSync(stack, ['services:', '  app:', '    image: example/app:1', '    ports:', `      - { target: 80, published: ${port}, mode: \${PUBLISH_MODE} }`, '    deploy:', `      placement: { constraints: ["${constraint}"] }`, ''].join('\n'));
  const vars = { overlay_networks: ['service_network'], overlay_encrypted: false, service_publish_mode: publishMode, service_endpoint_mode: 'dnsrr', stacks: [{ name: 'web', file: stack }] };
  const file = path.join(dir, 'hosts.yml');
  const lines = Object.entries(vars).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  writeFileSync(file, ['all:', '  vars:', '    ansible_connection: local', ...lines, '  children:', '    managers:', '      hosts:', '        gateway: { node_role: gateway }', '    workers:', '      hosts: {}', ''].join('\n'));
  return file;
}

const portsLine = (stdout: string) => /^(ok|failed \(ignored\)): \[gateway\] ports .*$/m.exec(stdout)?.[0] ?? '';

test('a host-mode port the placement puts on this node, held by a planted listener: exit 2 naming node, port/proto and process', async (t) => {
  const held = await plant();
  t.after(held.close);
  const r = await runCli(['playbooks/preflight.ts', '-i', inventory(held.port, 'node.role == manager', 'host')], {}, 120_000);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(portsLine(r.stdout), new RegExp(`^failed \\(ignored\\): \\[gateway\\] ports .*gateway: ${held.port}/tcp, published by web_app \\(host mode: its placement\\), is held by node \\(pid ${process.pid}\\)`), r.stdout);
  assert.match(r.stdout, /failed: \[gateway\] every check passes .*failed: (\w+, )*ports/, r.stdout);
});

test('the same listener on a node the placement excludes is no collision in host mode, and is one in ingress mode (the mesh takes every node)', async (t) => {
  const held = await plant();
  t.after(held.close);
  const elsewhere = await runCli(['playbooks/preflight.ts', '-i', inventory(held.port, 'node.labels.role == data', 'host')], {}, 120_000);
  assert.match(portsLine(elsewhere.stdout), /^ok: \[gateway\] ports .*pass: no stack publishes a port here/, elsewhere.stdout);
  const mesh = await runCli(['playbooks/preflight.ts', '-i', inventory(held.port, 'node.labels.role == data', 'ingress')], {}, 120_000);
  assert.equal(mesh.code, 2, mesh.stdout + mesh.stderr);
  assert.match(portsLine(mesh.stdout), new RegExp(`gateway: ${held.port}/tcp, published by web_app \\(ingress: every node\\), is held by node \\(pid ${process.pid}\\)`), mesh.stdout);
});

test('a free port passes, named in the detail', async () => {
  const held = await plant();
  await held.close();
  const r = await runCli(['playbooks/preflight.ts', '-i', inventory(held.port, 'node.role == manager', 'host')], {}, 120_000);
  assert.match(portsLine(r.stdout), new RegExp(`^ok: \\[gateway\\] ports .*pass: 1 free or the stacks' own: ${held.port}/tcp`), r.stdout);
});
