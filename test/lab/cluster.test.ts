import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { raw, sh } from '../../lib/shell/command.ts';
import { runCli } from '../helpers/cli.ts';
import { ensureLab, resetLab } from '../helpers/lab.ts';
import { buildLocalRepo } from '../helpers/local-repo.ts';
import { onNode, stateHash } from '../helpers/node.ts';
import { scratchDir } from '../helpers/run.ts';

// The cluster issue's acceptance, end to end on the lab's four real nodes:
// real apt, Docker, Swarm, overlay networks and stacks.
const NODES = ['gateway', 'ai', 'data', 'cicd'];
let inv: string;

before(() => {
  inv = ensureLab();
  resetLab();
});
// No reset after: the lab is left converged for the suites after this one (package.json's test:lab order),
// and every suite that needs fresh nodes resets them itself.

interface HostEvent {
  type: string;
  task: string;
  host: string;
  status: string;
  msg?: string;
  delegatedTo?: string;
}

function events(stdout: string) {
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const recap = lines.at(-1) as { type: string; hosts: Record<string, { changed: number; failed: number; unreachable: number }> };
  assert.equal(recap.type, 'recap', 'the last JSON line is the recap');
  return { hostEvents: lines.filter((e) => e.type === 'task-host') as unknown as HostEvent[], recap };
}

/** The failed and changed task events of a run: what an assertion message needs to explain itself. */
function notable(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => /"status":"(failed|changed|unreachable)"/.test(l) || l.includes('"type":"error"'))
    .join('\n');
}

const site = (args: string[] = []) => runCli(['playbooks/site.ts', '--json', ...args], {}, 15 * 60_000);
/** A script of the test's own on the manager. */
const gateway = async (script: string) => (await onNode(inv, 'gateway', sh`${raw(script)}`)).stdout;

/** Docker's view of the cluster, for check mode's "nothing changed" on top of each node's state hash. */
async function clusterState(): Promise<string[]> {
  const hashes = await Promise.all(NODES.map((n) => stateHash(inv, n)));
  const docker = await Promise.all(
    NODES.map(async (n) => (await onNode(inv, n, sh`command -v docker >/dev/null && { docker info --format '{{.Swarm.LocalNodeState}}'; docker network ls -q | sort; docker ps -aq | sort; docker volume ls -q | sort; docker secret ls -q 2>/dev/null | sort; docker service ls -q 2>/dev/null | sort; } || echo no-docker`)).stdout),
  );
  return [...hashes, ...docker];
}

test('site --check on a fresh lab changes nothing on any node and lists what it would do', async () => {
  const before = await clusterState();
  const r = await site(['--check']);
  const { hostEvents, recap } = events(r.stdout);
  assert.equal(r.code, 0, r.stderr + notable(r.stdout));
  for (const n of NODES) assert.equal(recap.hosts[n]!.failed, 0, n);
  const planned = hostEvents.filter((e) => e.status === 'changed').map((e) => `${e.host}:${e.task}`);
  for (const want of ['gateway:Docker packages', 'gateway:swarm initialised', 'ai:joined to the swarm', 'gateway:overlay networks', 'gateway:stacks deployed', 'ai:mount']) {
    assert.ok(planned.includes(want), `check mode lists ${want}`);
  }
  assert.deepEqual(await clusterState(), before, 'no node changed in check mode');
});

test('site converges a fresh lab: four Ready nodes with labels, the networks, every service at its replicas, health green', async () => {
  const r = await site();
  assert.equal(r.code, 0, r.stderr + notable(r.stdout));
  const nodes = await gateway(`docker node ls --format '{{.Hostname}} {{.Status}}' | sort; for n in ${NODES.join(' ')}; do echo "$n $(docker node inspect $n --format '{{index .Spec.Labels "role"}}')"; done`);
  assert.match(nodes, /^ai Ready\ncicd Ready\ndata Ready\ngateway Ready\n/);
  assert.match(nodes, /ai ai\n/);
  assert.match(nodes, /data data\n/);
  assert.match(nodes, /cicd cicd\n/);
  const nets = await gateway(`for n in dmz_network service_network ai_network data_network build_network monitoring; do docker network inspect $n --format '{{.Name}} {{.Driver}} {{.Attachable}} {{index .Options "encrypted"}}'; done`);
  assert.equal(nets.trim().split('\n').length, 6);
  for (const line of nets.trim().split('\n')) assert.match(line, /^\S+ overlay true\s*$/, 'overlay, attachable, not encrypted (the lab inventory says so)');
  const services = await gateway(`docker service ls --format '{{.Name}} {{.Replicas}}' | sort`);
  assert.match(services, /^lab_files 1\/1\nlab_postgres 1\/1\nlab_web 2\/2/);
  const health = await runCli(['playbooks/health.ts'], {}, 5 * 60_000);
  assert.equal(health.code, 0, health.stdout + health.stderr);
  assert.match(health.stdout, /ok\s+lab_web\s+2\/2\s+200 http:\/\/172\.30\.99\.\d+:8080\/health, 200 http/);
  assert.match(health.stdout, /ok\s+lab_postgres\s+1\/1/);
});

test('a second site run reports changed=0 on every host, and --check on the converged lab too', async () => {
  const r = await site();
  const { recap } = events(r.stdout);
  assert.equal(r.code, 0, notable(r.stdout));
  for (const n of NODES) assert.deepEqual([n, recap.hosts[n]!.changed, recap.hosts[n]!.failed], [n, 0, 0], notable(r.stdout));
  const before = await clusterState();
  const c = await site(['--check']);
  const checked = events(c.stdout);
  for (const n of NODES) assert.equal(checked.recap.hosts[n]!.changed, 0, `${n} in check mode: ${notable(c.stdout)}`);
  assert.deepEqual(await clusterState(), before);
});

test('preflight: a pass/warn/fail table per host, non-zero on a failed check; health: non-zero with the failing endpoint', async () => {
  const ok = await runCli(['playbooks/preflight.ts'], {}, 120_000);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  for (const n of NODES) assert.match(ok.stdout, new RegExp(`^${n}\\s+PASS 20\\.10\\.\\d+`, 'm'), `${n}: Docker passes`);
  assert.match(ok.stdout, /WARN no docker compose/);
  assert.match(ok.stdout, /PASS \d+\.\d GB free on \//);
  const full = await runCli(['playbooks/preflight.ts', '-e', 'preflight_min_free_gb=100000', '--limit', 'data'], {}, 120_000);
  assert.equal(full.code, 2);
  assert.match(full.stdout, /^data\s.*FAIL [\d.]+ GB free on \/ \(need 100000\)/m);
  const bad = JSON.stringify({ health_retries: 1, health_delay_seconds: 0.2, health_checks: [{ service: 'lab_web', port: 8080, path: '/health' }, { service: 'lab_web', port: 8080, path: '/missing' }] });
  const unhealthy = await runCli(['playbooks/health.ts', '-e', bad], {}, 120_000);
  assert.equal(unhealthy.code, 2, unhealthy.stdout);
  assert.match(unhealthy.stdout, /FAIL\s+lab_web\s+2\/2\s.*answered 404/);
});

test('drift is repaired and only drift: a node label, a network, daemon.json, a scaled-down service', async () => {
  await gateway(`docker node update --label-rm role ai >/dev/null; docker network rm build_network >/dev/null; docker service scale -d lab_web=1 >/dev/null`);
  await onNode(inv, 'data', sh`python3 -c ${"import json;p='/etc/docker/daemon.json';d=json.load(open(p));d['log-opts']['max-size']='20m';json.dump(d,open(p,'w'))"}`);
  const r = await site(['--diff']);
  assert.equal(r.code, 0, notable(r.stdout));
  const { hostEvents } = events(r.stdout);
  const changed = hostEvents.filter((e) => e.status === 'changed').map((e) => `${e.host}:${e.task}`).sort();
  assert.deepEqual(changed, ['ai:node labels', 'data:daemon.json', 'data:restart docker', 'gateway:overlay networks', 'gateway:stacks deployed']);
  // The stacks play runs on every swarm node (each pulls its images first); the first manager deploys.
  const stack = hostEvents.find((e) => e.task === 'stacks deployed' && e.host === 'gateway')!;
  assert.match(stack.msg!, /deploy lab: lab_web/);
  assert.match(JSON.stringify(stack), /Mode\.Replicated\.Replicas: 1 -> 2/);
  assert.match(await gateway(`docker service ls --filter name=lab_web --format '{{.Replicas}}'`), /^2\/2/);
  assert.match(await onNode(inv, 'data', sh`cat /etc/docker/daemon.json`).then((x) => x.stdout), /"max-size": "10m"/);
  const rerun = await site();
  const again = events(rerun.stdout);
  for (const n of NODES) assert.equal(again.recap.hosts[n]!.changed, 0, `${n}: ${notable(rerun.stdout)}`);
});

test('each role runs alone through playbooks/role.ts; an unknown role is refused', async () => {
  for (const role of ['base', 'docker', 'nvidia', 'swarm', 'networks', 'nfs', 'stacks', 'databases', 'monitoring', 'health']) {
    const r = await runCli(['playbooks/role.ts', role, '--json'], {}, 5 * 60_000);
    assert.equal(r.code, 0, `${role}: ${notable(r.stdout)}${r.stderr}`);
    const { hostEvents, recap } = events(r.stdout);
    assert.ok(hostEvents.length > 0, `${role} ran tasks`);
    for (const [h, c] of Object.entries(recap.hosts)) assert.equal(c.changed, 0, `${role} on ${h}`);
  }
  const limited = await runCli(['playbooks/role.ts', 'swarm', '--limit', 'ai', '--json'], {}, 60_000);
  assert.deepEqual(Object.keys(events(limited.stdout).recap.hosts), ['ai']);
  const bad = await runCli(['playbooks/role.ts', 'nosuch'], {}, 60_000);
  assert.equal(bad.code, 4);
  assert.match(bad.stderr, /no role "nosuch"; roles: base, docker, nvidia, swarm, networks, nfs, stacks, databases, monitoring, health/);
});

test('nvidia: skipped with a reason without a GPU; the install path passes against a local stand-in repository', async () => {
  const skipped = events((await runCli(['playbooks/role.ts', 'nvidia', '--json'], {}, 60_000)).stdout);
  const driver = skipped.hostEvents.filter((e) => e.task === 'NVIDIA driver');
  assert.equal(driver.length, 4);
  for (const e of driver) {
    assert.equal(e.status, 'skipped');
    assert.match(e.msg!, /no NVIDIA GPU on this host/);
  }
  // The stand-in: a signed flat repository on the ai node serving a package named nvidia-container-toolkit.
  const repo = await onNode(inv, 'ai', buildLocalRepo('/srv/standin-nvidia', [{ name: 'nvidia-container-toolkit', version: '1.17.3-1' }]));
  assert.equal(repo.code, 0, repo.stderr);
  const vars = path.join(scratchDir(), 'nvidia.json');
  writeFileSync(vars, JSON.stringify({ nvidia_gpu: true, nvidia_require_driver: false, nvidia_repo_url: 'file:/srv/standin-nvidia', nvidia_repo_key: repo.stdout }));
  const r = await runCli(['playbooks/role.ts', 'nvidia', '--limit', 'ai', '-e', `@${vars}`, '--json'], {}, 5 * 60_000);
  assert.equal(r.code, 0, notable(r.stdout) + r.stderr);
  const byTask = Object.fromEntries(events(r.stdout).hostEvents.map((e) => [e.task, e]));
  assert.equal(byTask['NVIDIA driver']!.status, 'ok');
  assert.equal(byTask["NVIDIA's apt repository"]!.status, 'changed');
  assert.equal(byTask['NVIDIA container toolkit']!.status, 'changed');
  assert.equal(byTask['nvidia runtime in daemon.json']!.status, 'changed');
  assert.equal(byTask['restart docker']!.status, 'changed');
  assert.equal(byTask['a container sees the GPU']!.status, 'skipped');
  assert.match(byTask['a container sees the GPU']!.msg!, /no GPU is detected here/);
  const node = await onNode(inv, 'ai', sh`cat /usr/share/doc/nvidia-container-toolkit/standin; cat /etc/docker/daemon.json; docker info --format '{{json .Runtimes}}'`);
  assert.match(node.stdout, /rigger lab stand-in/);
  assert.match(node.stdout, /"nvidia": \{\s*"path": "nvidia-container-runtime"/);
  assert.match(node.stdout, /"insecure-registries"/, 'the docker role\'s keys are kept');
  assert.match(node.stdout, /"nvidia":\{"path":"nvidia-container-runtime"/, 'Docker restarted with the runtime');
  const again = events((await runCli(['playbooks/role.ts', 'nvidia', '--limit', 'ai', '-e', `@${vars}`, '--json'], {}, 5 * 60_000)).stdout);
  assert.equal(again.recap.hosts.ai!.changed, 0, 'the second run changes nothing and does not restart Docker');
});
