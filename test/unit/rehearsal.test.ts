import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { typedVars } from '../../lib/runner/host-vars.ts';
import { secret } from '../../lib/shell/secret.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { parseClusterState, planDatabases } from '../../lib/ops/postgres/databases.ts';
import { scramVerifier, verifierMatches } from '../../lib/ops/postgres/scram.ts';
import { interpolate } from '../../lib/ops/docker/compose.ts';
import { stack } from '../../lib/ops/docker/stack.ts';
import { gpuUuids, nvidiaDefaults } from '../../roles/nvidia/index.ts';
import { rehearsalInventoryText, rehearsedServices, REHEARSAL_RULE_FOR, STANDIN_GPU_UUID } from '../../scripts/lab/rehearsal.ts';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { pitrVars, withStackImage } from '../../lib/pitr/config.ts';
import { scratchDir } from '../helpers/run.ts';

// The guard of the lab's rehearsal (test/lab/rehearsal.test.ts): every image
// of the real stacks has a stand-in, every service a place and checks.

test('every service of the real stacks has a stand-in image, a lab node and checks', () => {
  const { services, problems } = rehearsedServices();
  assert.deepEqual(problems, []);
  // gateway 5, ai 3, data 2, cicd 2, and the monitoring role's 10 (homelab.yml turns monitoring on).
  assert.equal(services.length, 22);
  const sglang = services.find((s) => s.service === 'ai_sglang')!;
  assert.deepEqual(sglang.nodes, ['ai']);
  assert.deepEqual(sglang.http, [{ port: 8000, path: '/health' }, { port: 8000, path: '/metrics' }, { port: 8000, path: '/v1/models' }]);
  assert.deepEqual(services.find((s) => s.service === 'monitoring_node-exporter')!.nodes, ['gateway', 'ai', 'data', 'cicd']);
  // A global service with a placement runs where it names: DCGM on the ai node only.
  assert.deepEqual(services.find((s) => s.service === 'monitoring_dcgm-exporter')!, { service: 'monitoring_dcgm-exporter', image: 'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.8-3.6.0-ubuntu22.04', nodes: ['ai'], replicas: 1, http: [{ port: 9400, path: '/metrics' }] });
  // The monitoring stack's services beside the real ones, and none of the gateway's old copies.
  assert.deepEqual(services.filter((s) => s.service.startsWith('monitoring_')).map((s) => s.service).sort(), ['alertmanager', 'blackbox-exporter', 'cadvisor', 'dcgm-exporter', 'grafana', 'loki', 'node-exporter', 'postgres-exporter', 'prometheus', 'promtail'].map((s) => `monitoring_${s}`));
  assert.deepEqual(services.filter((s) => /^(gateway|data)_(prometheus|grafana|loki|promtail|node-exporter)$/.test(s.service)), []);
  assert.deepEqual(services.find((s) => s.service === 'gateway_n8n')!.nodes, ['gateway']);
});

test('a real stack file gaining an image without a stand-in, or a service with no lab node, fails the guard', () => {
  const root = scratchDir();
  mkdirSync(path.join(root, 'inventory'), { recursive: true });
  cpSync('inventory/homelab.yml', path.join(root, 'inventory/homelab.yml'));
  cpSync('stacks', path.join(root, 'stacks'), { recursive: true });
  const cicd = path.join(root, 'stacks/cicd.yml');
  writeFileSync(
    cicd,
    readFileSync(cicd, 'utf8').replace(
      'services:\n',
      'services:\n  cache:\n    image: redis:7.4\n    deploy: { placement: { constraints: [node.labels.role == cicd] } }\n  sidecar:\n    image: registry:2.8.3\n    deploy: { placement: { constraints: [node.hostname == nas] } }\n',
    ),
  );
  const { problems } = rehearsedServices(root);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /cicd_cache .*image redis:7\.4 has no stand-in/);
  assert.match(problems[1]!, /cicd_sidecar .*names no single lab node/);
});

test('the rehearsal inventory is homelab.yml with only the lab-only variables overridden', () => {
  const home = parse(readFileSync('inventory/homelab.yml', 'utf8'), { customTags: [{ tag: '!vault', resolve: (s: string) => s }] });
  const reh = parse(rehearsalInventoryText(), { customTags: [{ tag: '!vault', resolve: (s: string) => s }] });
  const labOnly = new Set(['ansible_user', 'ansible_port', 'sshd_port', 'ansible_ssh_private_key_file', 'rigger_known_hosts_file', 'sshd_permit_root_login', 'sshd_allow_users', 'firewall_backend', 'firewall_swarm_from', 'apt_upgrade', 'docker_source', 'docker_daemon_config', 'overlay_encrypted', 'service_endpoint_mode', 'service_publish_mode', 'nfs_server_enabled', 'nfs_mount_fstype', 'nfs_mount_opts', 'nfs_mount_source', 'nfs_export_clients', 'preflight_min_free_gb', 'backup_webhook', 'monitoring_slack', 'monitoring_email', 'backup_inventory', 'backup_tar_image', 'stack_images', 'monitoring_durations', 'monitoring_disk_mountpoints']);
  const keys = new Set([...Object.keys(home.all.vars), ...Object.keys(reh.all.vars)]);
  for (const k of keys) if (!labOnly.has(k)) assert.deepEqual(reh.all.vars[k], home.all.vars[k], `all.vars.${k} is the real cluster's`);
  // The stacks, secrets and health checks are the real ones; every real image is mapped to the lab registry.
  for (const image of Object.keys(STANDINS)) assert.match(reh.all.vars.stack_images[image], /^172\.30\.99\.5:5000\/lab\/standin\//);
  // The monitoring programs Debian packages run as themselves (built on the lab), not as stand-ins.
  for (const image of ['prom/prometheus:v2.55.1', 'prom/alertmanager:v0.27.0', 'prom/node-exporter:v1.8.2', 'prom/blackbox-exporter:v0.25.0', 'quay.io/prometheuscommunity/postgres-exporter:v0.16.0']) {
    assert.match(reh.all.vars.stack_images[image], /^172\.30\.99\.5:5000\/lab\/monitoring\//, image);
  }
  assert.equal(reh.all.vars.monitoring_enabled, true);
  assert.match(reh.all.vars.stack_images['postgres:16-alpine'], /\/lab\/postgres:/);
  const ai = reh.all.children.workers.children.ai_nodes.hosts['ai.vibe.local'];
  assert.deepEqual(ai.nvidia_gpu_uuids, [STANDIN_GPU_UUID]);
  // Only the rules' for: is shortened (acceptance 2 waits for the longest); the NAS's /volume1 stays watched.
  assert.ok(Object.values(reh.all.vars.monitoring_durations).every((d) => d === REHEARSAL_RULE_FOR));
  assert.ok(reh.all.children.workers.children.data_nodes.hosts['data.vibe.local'].monitoring_disk_mountpoints.includes('/volume1'));
  assert.ok(!JSON.stringify(reh).includes('192.168.'), 'no address of the real cluster is left');
  assert.ok(!JSON.stringify(reh).includes('b2:'), 'the off-site copy stays in the lab');
});

test('the stack op replaces images from its map after interpolation, nothing else', () => {
  const op = stack({ name: 'ai', file: 'stacks/ai.yml', env: { ENDPOINT_MODE: 'dnsrr', PUBLISH_MODE: 'host', SGLANG_MODEL: 'glm-4-9b-chat', REGISTRY: 'cicd.vibe.local:5000', LANGGRAPH_TAG: '1.4.0' }, images: { 'cicd.vibe.local:5000/vibe/langgraph-agent:1.4.0': 'lab/langgraph:1' } });
  assert.deepEqual(op.problems, []);
  const p = op.params as { rendered: string; parsed: { services: Record<string, { command?: string }> } };
  assert.match(p.rendered, /image: lab\/langgraph:1/);
  assert.match(p.rendered, /image: lmsysorg\/sglang:v0\.3\.6-cu124/);
  assert.match(p.parsed.services.sglang!.command!, /--model-path \/models\/glm-4-9b-chat .*--quantization fp8 --context-length 8192 --max-running-requests 4/);
  assert.match(p.rendered, /kind: NVIDIA-GPU/);
});

test("the real content: operators' database names, Gitea's published SSH port, no bind mount without a source, the registry trusted", async () => {
  const data = parse(interpolate(readFileSync('stacks/data.yml', 'utf8'), { ENDPOINT_MODE: 'vip', PUBLISH_MODE: 'ingress' }).text, { merge: true });
  const gitea = data.services.gitea;
  assert.equal(gitea.environment.GITEA__database__NAME, 'giteadb');
  assert.equal(gitea.environment.GITEA__database__USER, 'gitea');
  const ssh = gitea.ports.find((p: { target: number }) => p.target === 22);
  assert.equal(String(ssh.published), gitea.environment.GITEA__server__SSH_PORT, 'clone URLs name the published port');
  for (const v of gitea.volumes as string[]) assert.ok(!v.startsWith('/'), `${v}: a named volume, not a host path no task creates`);
  assert.equal(data.services.redmine.environment.REDMINE_DB_DATABASE, 'redminedb');
  assert.equal(data.services.redmine.environment.REDMINE_DB_USERNAME, 'redmine');
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => 'homelab-example' });
  const vars = Object.fromEntries([...inv.varsFor('data.vibe.local')].map(([k, v]) => [k, v.value])) as Record<string, any>;
  assert.deepEqual(vars.app_databases.map((d: { name: string; owner: string }) => `${d.name}/${d.owner}`), ['giteadb/gitea', 'redminedb/redmine', 'n8n/n8n', 'langgraph/langgraph']);
  assert.deepEqual(vars.docker_daemon_config['insecure-registries'], ['cicd.vibe.local:5000']);
  assert.match(readFileSync('stacks/gateway.yml', 'utf8'), /cloudflare\/cloudflared:2025\.4\.0/);
});

test('SCRAM verifiers: PostgreSQL checks the password against ours, and a changed password is seen', () => {
  const v = scramVerifier('s3cret', Buffer.alloc(16, 1));
  assert.match(v, /^SCRAM-SHA-256\$4096:AQEBAQEBAQEBAQEBAQEBAQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
  assert.ok(verifierMatches(v, 's3cret'));
  assert.ok(!verifierMatches(v, 's3cret2'));
  assert.ok(!verifierMatches('md5abc', 's3cret'));
});

test('database plan: only what is missing or different, never the plain password', () => {
  const p = { service: 'gateway_postgres', admin: 'vibe', databases: [{ name: 'giteadb', owner: 'gitea', password: secret('pw1') }, { name: 'n8n', owner: 'n8n', password: secret('pw2') }] };
  const state = parseClusterState(`role|vibe|\nrole|gitea|${scramVerifier('pw1')}\nrole|n8n|${scramVerifier('old')}\ndb|giteadb|gitea\ndb|n8n|vibe\ndb|postgres|vibe`);
  const plan = planDatabases(p, state);
  assert.deepEqual(plan.changes, ["set role n8n's password (it differs from the inventory's)", 'database n8n: owner vibe -> n8n']);
  assert.ok(!plan.sql.join('\n').includes('pw2'));
  assert.deepEqual(planDatabases(p, parseClusterState(`role|gitea|${scramVerifier('pw1')}\nrole|n8n|${scramVerifier('pw2')}\ndb|giteadb|gitea\ndb|n8n|n8n`)).sql, []);
  assert.match(parseClusterState('@@psql psql: error: connection refused').error!, /connection refused/);
});

test("the nvidia role advertises the GPUs nvidia-smi lists, or the inventory's where it cannot see one", () => {
  const ctx = (vars: Record<string, unknown>, devices: string[]) =>
    ({ vars: typedVars(nvidiaDefaults, new Map(Object.entries(vars).map(([k, v]) => [k, { value: v, origin: 'test' }])) as never, 'nvidia', 'h'), fact: () => ({ present: devices.length > 0, source: 'nvidia-smi', devices }) }) as never;
  assert.deepEqual(gpuUuids(ctx({}, ['GPU 0: NVIDIA GeForce RTX 3060 (UUID: GPU-5f1b2c3d-aaaa-bbbb-cccc-0123456789ab)'])), ['GPU-5f1b2c3d-aaaa-bbbb-cccc-0123456789ab']);
  assert.deepEqual(gpuUuids(ctx({ nvidia_gpu_uuids: ['GPU-x'] }, [])), ['GPU-x']);
  assert.deepEqual(gpuUuids(ctx({}, [])), []);
});

test("point in time on the rehearsal: homelab.yml's postgres_pitr carried over, its archiver running the lab registry's PostgreSQL with no image set by hand", async () => {
  const dir = scratchDir();
  const file = path.join(dir, 'rehearsal.yml');
  writeFileSync(file, rehearsalInventoryText());
  const inv = await loadInventories([file], { vaultPassphrase: () => 'homelab-example' });
  const vars = Object.fromEntries([...inv.varsFor('ai.vibe.local')].map(([k, v]) => [k, v.value]));
  const parsed = pitrVars.parse(vars);
  const c = parsed.postgres_pitr!;
  assert.equal(c.database_host, 'data.vibe.local');
  assert.equal(c.archive_host, 'ai.vibe.local');
  assert.ok(c.password.reveal().length >= 16, 'the replication password decrypts with the example passphrase');
  assert.match(withStackImage(c, parsed.stack_images).image, /^172\.30\.99\.5:5000\/lab\/postgres:/, 'the archiver runs the image the lab has');
  // The archiver reaches the server by its service name on the overlay network: nothing to rewrite for the lab.
  assert.equal(c.server_host, 'gateway_postgres');
});
