// preflight.ts run as a user runs it, on this machine over the local
// connection: its kernel has neither ESP nor IPVS (the lab's kernel, since the
// lab's nodes are containers on it), so encrypted overlays are refused with
// exit 2 naming ESP and the node, the ingress mesh naming IPVS, and the lab's
// own settings (no encryption, host-mode ports, dnsrr) pass. site.ts refuses
// the same node at its first task, so nothing on it is changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/run.ts';

function inventory(vars: Record<string, unknown>): string {
  const file = path.join(scratchDir(), 'hosts.yml');
  const lines = Object.entries(vars).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  writeFileSync(file, ['all:', '  vars:', '    ansible_connection: local', ...lines, '  children:', '    managers:', '      hosts:', '        gateway:', '    workers:', '      hosts: {}', ''].join('\n'));
  return file;
}

// A stack publishing no port: the kernel check needs one in the list, and preflight's port check reads its file.
const webStack = path.join(scratchDir(), 'web.yml');
writeFileSync(webStack, 'services:\n  web:\n    image: example/web:1\n');
const lab = { overlay_networks: ['service_network'], overlay_encrypted: false, service_publish_mode: 'host', service_endpoint_mode: 'dnsrr', stacks: [{ name: 'web', file: webStack }] };
const kernelCell = (stdout: string) => /^gateway\s.*?(PASS|WARN|FAIL) (gateway: kernel .*|neither ESP nor IPVS needed.*)$/m.exec(stdout)?.[0] ?? '';

test('preflight refuses encrypted overlays on a kernel without ESP, naming ESP and the node', async () => {
  const r = await runCli(['playbooks/preflight.ts', '-i', inventory({ ...lab, overlay_encrypted: true })], {}, 120_000);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /failed \(ignored\): \[gateway\] kernel .*gateway: kernel \S+ lacks ESP \(CONFIG_INET_ESP is not set in \/proc\/config\.gz\), needed by encrypted overlay networks/, r.stdout);
  assert.match(kernelCell(r.stdout), /FAIL gateway: kernel \S+ lacks ESP/);
  assert.match(r.stdout, /failed: \[gateway\] every check passes .*failed: (\w+, )*kernel/, r.stdout);
});

// CI's unit stage has Docker's CLI but no engine: the docker check failed and
// every later check showed as "unreachable", the kernel's refusal with them.
test('a failed check hides none after it: with the engine down the kernel is still checked, and the run fails naming both', async () => {
  const r = await runCli(['playbooks/preflight.ts', '-i', inventory({ ...lab, overlay_encrypted: true })], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, 120_000);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /failed \(ignored\): \[gateway\] docker .*installed but the engine does not answer/, r.stdout);
  assert.match(kernelCell(r.stdout), /FAIL gateway: kernel \S+ lacks ESP/);
  assert.doesNotMatch(r.stdout, /unreachable  /, r.stdout);
  assert.match(r.stdout, /failed: \[gateway\] every check passes .*failed: docker, kernel/, r.stdout);
});

test('preflight refuses the ingress mesh on a kernel without IPVS; the lab settings pass', async () => {
  const ingress = await runCli(['playbooks/preflight.ts', '-i', inventory({ ...lab, service_publish_mode: 'ingress' })], {}, 120_000);
  assert.equal(ingress.code, 2, ingress.stdout + ingress.stderr);
  assert.match(ingress.stdout, /lacks IPVS \(CONFIG_IP_VS is not set in \/proc\/config\.gz\), needed by ports published in ingress mode/);
  const plain = await runCli(['playbooks/preflight.ts', '-i', inventory(lab)], {}, 120_000);
  assert.match(plain.stdout, /ok: \[gateway\] kernel .*pass: neither ESP nor IPVS needed/, plain.stdout);
  assert.doesNotMatch(plain.stdout, /failed( \(ignored\))?: \[gateway\] kernel/);
});

test('site.ts refuses a node whose kernel lacks ESP at its first task, and runs nothing else there', async () => {
  // Check mode: even a regression that went further would only read this machine.
  const r = await runCli(['playbooks/site.ts', '-i', inventory({ ...lab, overlay_encrypted: true }), '--check'], {}, 120_000);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^(ok|changed|failed|skipping): \[gateway\]/.test(l));
  assert.equal(lines.length, 1, r.stdout);
  assert.match(lines[0]!, /^failed: \[gateway\] kernel carries the swarm settings .*refusing to set up this node: gateway: kernel \S+ lacks ESP/);
  assert.match(r.stdout, /PLAY \[docker\] on 0 host\(s\)/);
});
