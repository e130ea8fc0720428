import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { monitoringDefaults } from '../../roles/monitoring/defaults.ts';
import { renderLokiConfig } from '../../roles/monitoring/loki.ts';
import { monitoringStack } from '../../roles/monitoring/stack.ts';

// Loki's configuration as the monitoring role writes it (Loki does not run in
// the lab: Debian's `loki` package is another program), checked against what
// it must say and against the stack file that mounts it.

interface LokiConfig {
  auth_enabled: boolean;
  common: { path_prefix: string; replication_factor: number; ring: { kvstore: { store: string } }; storage: { filesystem: { chunks_directory: string; rules_directory: string } } };
  schema_config: { configs: { store: string; object_store: string; schema: string }[] };
  compactor: { working_directory: string; retention_enabled: boolean; delete_request_store: string };
  limits_config: { retention_period: string };
}

const render = (vars: Record<string, unknown> = {}) => parse(renderLokiConfig({ retention: monitoringDefaults.parse(vars).monitoring_retention, dataDir: '/loki' })) as LokiConfig;

test("the role's Loki config: 30 days of retention enforced by the compactor, filesystem storage under its volume, one process", () => {
  const c = render();
  assert.equal(c.limits_config.retention_period, '30d');
  // Without the compactor's retention Loki keeps every log forever; Loki 3 refuses retention without a delete-request store.
  assert.deepEqual(c.compactor, { working_directory: '/loki/compactor', retention_enabled: true, delete_request_store: 'filesystem' });
  assert.deepEqual(c.common.storage, { filesystem: { chunks_directory: '/loki/chunks', rules_directory: '/loki/rules' } });
  assert.equal(c.common.path_prefix, '/loki');
  assert.deepEqual(c.schema_config.configs.map((s) => `${s.store}/${s.object_store}/${s.schema}`), ['tsdb/filesystem/v13']);
  assert.equal(c.common.ring.kvstore.store, 'inmemory', 'no ring to join: one Loki');
  assert.equal(c.common.replication_factor, 1);
  assert.equal(c.auth_enabled, false);
});

test('the retention follows the inventory (monitoring_retention, as Prometheus does)', () => {
  assert.equal(render({ monitoring_retention: '90d' }).limits_config.retention_period, '90d');
});

test('stacks/monitoring.yml runs Loki on that file and keeps its data on the loki_data volume', () => {
  const m = monitoringStack(monitoringDefaults.parse({}));
  const { compose } = parseCompose(interpolate(readFileSync(m.file, 'utf8'), m.env).text);
  const loki = compose!.services.loki!;
  const volumes = (loki.volumes ?? []) as string[];
  // The role writes ${monitoring_config_dir}/loki/config.yml; the stack mounts that directory where -config.file points.
  assert.ok(volumes.includes(`${m.env.CONFIG_DIR}/loki:/etc/loki:ro`), volumes.join(', '));
  assert.deepEqual(loki.command, ['-config.file=/etc/loki/config.yml']);
  assert.ok(volumes.includes('loki_data:/loki'), "the config's /loki is the volume the backup takes");
  assert.ok(Object.keys(compose!.volumes ?? {}).includes('loki_data'));
});
