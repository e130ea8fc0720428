// Grafana is not in Debian's archive, so the lab cannot run it: its
// provisioning files are checked here instead. The dashboards against a JSON
// schema of the fields Grafana's file provisioner needs (ajv, draft 2020-12),
// every panel query against Prometheus's PromQL grammar, and the data source
// and dashboard-provider YAML against their documented shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { promqlError } from '../../roles/monitoring/promql.ts';
import { walkSource } from '../../lib/ops/files/copy-tree.ts';
import { interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { monitoringDefaults } from '../../roles/monitoring/defaults.ts';
import { GRAFANA_FILES } from '../../roles/monitoring/index.ts';
import { monitoringStack } from '../../roles/monitoring/stack.ts';

const GRAFANA = path.resolve(import.meta.dirname, '../../monitoring/grafana');

const dashboardSchema = {
  type: 'object',
  required: ['uid', 'title', 'schemaVersion', 'panels'],
  properties: {
    uid: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,40}$' },
    title: { type: 'string', minLength: 1 },
    schemaVersion: { type: 'integer', minimum: 30 },
    panels: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'type', 'title', 'gridPos', 'datasource', 'targets'],
        properties: {
          id: { type: 'integer' },
          type: { enum: ['timeseries', 'stat', 'gauge', 'table', 'bargauge', 'logs'] },
          gridPos: { type: 'object', required: ['h', 'w', 'x', 'y'], properties: { w: { type: 'integer', minimum: 1, maximum: 24 }, x: { type: 'integer', minimum: 0, maximum: 23 } } },
          datasource: { type: 'object', required: ['type', 'uid'] },
          targets: { type: 'array', minItems: 1, items: { type: 'object', required: ['refId', 'expr'], properties: { expr: { type: 'string', minLength: 1 } } } },
        },
      },
    },
  },
} as const;

interface Dashboard {
  uid: string;
  panels: { id: number; title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
}

test('the four dashboards (system overview, services, database, GPU) validate, and every query is PromQL on a provisioned data source', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(dashboardSchema);
  const files = readdirSync(path.join(GRAFANA, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(files, ['database.json', 'gpu.json', 'services.json', 'system-overview.json']);
  const datasources = parse(readFileSync(path.join(GRAFANA, 'provisioning/datasources/datasources.yml'), 'utf8')) as { datasources: { uid: string }[] };
  const uids = new Set(datasources.datasources.map((d) => d.uid));
  const seen = new Set<string>();
  for (const f of files) {
    const d = JSON.parse(readFileSync(path.join(GRAFANA, 'dashboards', f), 'utf8')) as Dashboard;
    const valid = validate(structuredClone(d));
    assert.ok(valid, `${f}: ${JSON.stringify(validate.errors)}`);
    assert.ok(!seen.has(d.uid), `${f}: uid ${d.uid} is unique`);
    seen.add(d.uid);
    assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length, `${f}: panel ids are unique`);
    for (const p of d.panels) {
      assert.ok(uids.has(p.datasource.uid), `${f} "${p.title}": data source ${p.datasource.uid} is provisioned`);
      for (const t of p.targets) assert.equal(promqlError(t.expr), undefined, `${f} "${p.title}": ${t.expr}`);
    }
  }
});

test('the data sources and the dashboard provider have the shape Grafana provisions from', () => {
  const ds = parse(readFileSync(path.join(GRAFANA, 'provisioning/datasources/datasources.yml'), 'utf8')) as { apiVersion: number; datasources: { name: string; type: string; url: string; access: string; isDefault?: boolean }[] };
  assert.equal(ds.apiVersion, 1);
  assert.deepEqual(ds.datasources.map((d) => [d.type, d.url, d.access]), [['prometheus', 'http://prometheus:9090', 'proxy'], ['loki', 'http://loki:3100', 'proxy']]);
  assert.equal(ds.datasources.filter((d) => d.isDefault).length, 1, 'one default data source');
  const prov = parse(readFileSync(path.join(GRAFANA, 'provisioning/dashboards/dashboards.yml'), 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
  assert.equal(prov.apiVersion, 1);
  assert.equal(prov.providers[0]!.type, 'file');
  const stack = readFileSync(path.resolve(GRAFANA, '../../stacks/monitoring.yml'), 'utf8');
  assert.ok(stack.includes(`/grafana/dashboards:${prov.providers[0]!.options.path}:ro`), 'the provider reads the directory the stack mounts');
});

test("the role copies Grafana's files where stacks/monitoring.yml bind-mounts them", () => {
  const m = monitoringStack(monitoringDefaults.parse({}));
  const { compose } = parseCompose(interpolate(readFileSync(m.file, 'utf8'), m.env).text);
  const sources = ((compose!.services.grafana!.volumes ?? []) as string[]).map((v) => v.split(':')[0]!).filter((s) => s.startsWith('/'));
  assert.deepEqual(sources, [`${m.env.CONFIG_DIR}/grafana/provisioning`, `${m.env.CONFIG_DIR}/grafana/dashboards`]);
  // The role's copy lands under ${CONFIG_DIR}/grafana: each mounted directory must hold files from it (a missing source rejects the task).
  const copied = walkSource(GRAFANA_FILES, false).files.map((f) => `${m.env.CONFIG_DIR}/grafana/${f.rel}`);
  for (const s of sources) assert.ok(copied.some((f) => f.startsWith(`${s}/`)), `${s} is filled by the copy: ${copied.join(', ')}`);
});
