import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupVars } from '../../lib/backup/config.ts';
import { stackMounts, uncoveredMounts, type StackMount } from '../../lib/backup/coverage.ts';
import { interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { HOMELAB_VAULT_PASSWORD, HOST_OF, realStacks, rehearsedServices } from '../../scripts/lab/rehearsal.ts';
import { scratchDir } from '../helpers/run.ts';

// The guard of "every stateful volume of the real cluster is backed up": each
// named volume and writable bind mount of stacks/{gateway,ai,data,cicd}.yml
// and of the monitoring role's stacks/monitoring.yml must be covered by a backup item of the host it lives on (homelab.yml), or
// be listed in that host's backup_not_needed with a reason.

const HOST_OF_NODE = Object.fromEntries(Object.entries(HOST_OF).map(([h, n]) => [n, h]));

async function realMounts(root = '.'): Promise<{ mounts: StackMount[]; uncovered: string[] }> {
  const inv = await loadInventories([path.join(root, 'inventory/homelab.yml')], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const varsOf = (host: string) => backupVars.parse(Object.fromEntries([...inv.varsFor(host)].map(([k, v]) => [k, v.value])));
  const { services } = rehearsedServices(root);
  const hostsOf = (svc: string) => services.find((s) => s.service === svc)!.nodes.map((n) => HOST_OF_NODE[n]!);
  const mounts = realStacks(root).flatMap((s) => {
    const { compose } = parseCompose(interpolate(readFileSync(path.join(root, s.file), 'utf8'), { ENDPOINT_MODE: 'vip', PUBLISH_MODE: 'ingress', ...s.env }).text);
    assert.ok(compose, `${s.file} parses`);
    // The monitoring role deploys only the services it runs (stacks/monitoring.yml holds every one).
    const running = s.services;
    return stackMounts(s.name, compose, hostsOf).filter((m) => !running || running.includes(m.service.slice(s.name.length + 1)));
  });
  return { mounts, uncovered: uncoveredMounts(mounts, varsOf) };
}

test('every named volume and writable bind mount of the real stacks is in a backup item of its host', async () => {
  const { mounts, uncovered } = await realMounts();
  assert.deepEqual(uncovered, []);
  // What the guard saw: the stateful volumes, each where its service runs.
  const volumes = mounts.filter((m) => m.volume).map((m) => `${m.volume}@${m.hosts.join(',')}`).sort();
  assert.deepEqual(volumes, [
    'ai_ollama_data@ai.vibe.local',
    'cicd_registry_data@cicd.vibe.local',
    'cicd_runner_data@cicd.vibe.local',
    'data_gitea_data@data.vibe.local',
    'data_gitea_dump_tmp@data.vibe.local',
    'data_redmine_files@data.vibe.local',
    'gateway_n8n_data@gateway.vibe.local',
    'gateway_npm_data@gateway.vibe.local',
    'gateway_npm_letsencrypt@gateway.vibe.local',
    'gateway_portainer_data@gateway.vibe.local',
    'gateway_postgres_data@data.vibe.local',
    'monitoring_alertmanager_data@gateway.vibe.local',
    'monitoring_grafana_data@gateway.vibe.local',
    'monitoring_loki_data@gateway.vibe.local',
    'monitoring_prometheus_data@gateway.vibe.local',
  ]);
});

function scratchCopy(): string {
  const root = scratchDir();
  mkdirSync(path.join(root, 'inventory'), { recursive: true });
  cpSync('inventory/homelab.yml', path.join(root, 'inventory/homelab.yml'));
  cpSync('stacks', path.join(root, 'stacks'), { recursive: true });
  return root;
}

test('a real stack file gaining a volume or a writable bind mount that no item covers fails the guard', async () => {
  const root = scratchCopy();
  const mon = path.join(root, 'stacks/monitoring.yml');
  writeFileSync(
    mon,
    readFileSync(mon, 'utf8')
      .replace('      - loki_data:/loki\n', '      - loki_data:/loki\n      - loki_rules:/etc/loki/rules\n      - /srv/loki-extra:/extra\n      - /srv/loki-ro:/ro:ro\n')
      .replace('  loki_data:\n', '  loki_data:\n  loki_rules:\n'),
  );
  const { uncovered } = await realMounts(root);
  assert.deepEqual(uncovered, [
    'monitoring_loki: volume monitoring_loki_rules on gateway.vibe.local is in no backup item (add one, or list it in backup_not_needed with the reason)',
    'monitoring_loki: bind mount /srv/loki-extra on gateway.vibe.local is in no backup item (add one, or list it in backup_not_needed with the reason)',
  ]);
});

test('an item taken away, or a volume moved to another node, fails the guard', async () => {
  const root = scratchCopy();
  const inv = path.join(root, 'inventory/homelab.yml');
  writeFileSync(inv, readFileSync(inv, 'utf8').replace('            - { kind: volume, volume: monitoring_grafana_data }\n', ''));
  const cicd = path.join(root, 'stacks/cicd.yml');
  // The registry moved to the ai node: its volume is now there, where no item takes it.
  writeFileSync(cicd, readFileSync(cicd, 'utf8').replace('placement: { constraints: [node.labels.role == cicd] }\n      resources: { limits: { cpus: "0.5"', 'placement: { constraints: [node.labels.role == ai] }\n      resources: { limits: { cpus: "0.5"'));
  const { uncovered } = await realMounts(root);
  assert.deepEqual(uncovered.map((u) => u.split(' is in')[0]), ['cicd_registry: volume cicd_registry_data on ai.vibe.local', 'monitoring_grafana: volume monitoring_grafana_data on gateway.vibe.local']);
});
