// The monitoring role's generated files: the operators' rules (the invalid
// slow-query rule caught by Prometheus's own PromQL grammar and replaced),
// one threshold override = one changed line, a bad override refused at the
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// inventory line that set it, scrape targets from the inventory, Alertmanager's
// receivers, and alerts.ts's reading of Alertmanager's API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { definePlay } from '../../lib/index.ts';
import { alertTable, critical, parseAlerts, parseDuration, silenceBody } from '../../lib/monitoring/alerts.ts';
import { OPERATOR_ALERTS } from '../../roles/monitoring/alerts.ts';
import { renderAlertmanagerConfig } from '../../roles/monitoring/alertmanager.ts';
import { monitoringDefaults } from '../../roles/monitoring/defaults.ts';
import { monitoring } from '../../roles/monitoring/index.ts';
import { promqlError } from '../../roles/monitoring/promql.ts';
import { renderRules, ruleProblems } from '../../roles/monitoring/rules.ts';
import { probeTargets, renderPrometheusConfig, stackJobs } from '../../roles/monitoring/scrape.ts';
import { realStacks } from '../../scripts/lab/rehearsal.ts';
import { localInventory, runPlays } from '../helpers/run.ts';

// HighBuildFailureRate is not among them: it had no metric source (issue 29 item 6, docs/monitoring.md).
const OPERATORS = ['HighCPUUsage', 'HighMemoryUsage', 'DiskSpaceLow', 'ContainerDown', 'SGLangServiceDown', 'GPUMemoryHigh', 'PostgreSQLHighConnections', 'PostgreSQLSlowQueries'];
const inputs = (over: Partial<Parameters<typeof renderRules>[0]> = {}) => ({ alerts: OPERATOR_ALERTS, thresholds: {}, durations: {}, mountpoints: ['/'], interval: '30s', ...over });

test("the operators' slow-query expression is not PromQL; every default rule is", () => {
  assert.match(promqlError('rate(pg_stat_statements_calls_total{mean_exec_time > 1000}[5m]) > 10') ?? '', /not valid PromQL at character \d+/);
  assert.deepEqual(ruleProblems(inputs()), []);
});

test("the rule file has every rule of the operators' file, with their thresholds, durations and severities", () => {
  const doc = parse(renderRules(inputs())) as { groups: { name: string; interval: string; rules: { alert: string; expr: string; for: string; labels: { severity: string } }[] }[] };
  const rules = new Map(doc.groups.flatMap((g) => g.rules.map((r) => [r.alert, r])));
  for (const name of OPERATORS) assert.ok(rules.has(name), `${name} is in the rule file`);
  assert.equal(rules.get('HighCPUUsage')!.for, '10m');
  assert.match(rules.get('HighCPUUsage')!.expr, /> 80$/);
  assert.equal(rules.get('DiskSpaceLow')!.labels.severity, 'critical');
  assert.match(rules.get('DiskSpaceLow')!.expr, /mountpoint=~"\/"\}.* < 15$/);
  assert.doesNotMatch(rules.get('PostgreSQLSlowQueries')!.expr, /\{mean_exec_time/);
  assert.deepEqual(doc.groups.map((g) => g.name), ['system_alerts', 'ai_service_alerts', 'database_alerts']);
});

test('one threshold override changes one line of the rule file; a duration override only its for:', () => {
  const before = renderRules(inputs()).split('\n');
  const after = renderRules(inputs({ thresholds: { HighMemoryUsage: 70 }, durations: { ContainerDown: '15s' } })).split('\n');
  const changed = before.map((l, i) => [l, after[i]]).filter(([a, b]) => a !== b);
  assert.equal(before.length, after.length);
  assert.equal(changed.length, 2, JSON.stringify(changed));
  assert.match(changed[0]![1]!, /expr: .*node_memory.* > 70$/);
  assert.match(changed[1]![1]!, /for: 15s$/);
});

test('an invalid threshold override is refused by the role defaults, naming the rule', () => {
  const r = monitoringDefaults.safeParse({ monitoring_thresholds: { HighCPUUsage: '80 +' } });
  assert.equal(r.success, false);
  const issue = !r.success ? r.error.issues[0]! : undefined;
  assert.deepEqual(issue?.path, ['monitoring_thresholds', 'HighCPUUsage']);
  assert.match(issue!.message, /rule HighCPUUsage: expression .* is not valid PromQL/);
  const unknown = monitoringDefaults.safeParse({ monitoring_durations: { NoSuchRule: '1m' } });
  assert.ok(!unknown.success && /NoSuchRule: no such alert rule/.test(unknown.error.issues[0]!.message));
});

test('a run with an invalid override stops before any task, naming the inventory line and the rule', async () => {
  const inv = localInventory(['gw'], `  children:\n    managers:\n      hosts:\n        gw:\n      vars:\n        monitoring_enabled: true\n        monitoring_thresholds:\n          DiskSpaceLow: "15 and"\n`);
  await assert.rejects(
    () => runPlays(inv, [definePlay({ name: 'monitoring', hosts: 'managers', roles: [monitoring] })]),
    (err: Error) => /hosts\.yml:\d+/.test(err.message) && /DiskSpaceLow/.test(err.message) && /not valid PromQL/.test(err.message),
  );
});

test('scrape targets come from the inventory: every host, the health checks as probes, the database exporter', () => {
  const text = renderPrometheusConfig({
    nodes: [{ name: 'gateway', address: '10.0.0.1' }, { name: 'data', address: '10.0.0.2' }],
    nodeExporterPort: 9100,
    probes: [{ service: 'lab_web', port: 8080, path: '/health' }],
    running: (s) => s !== 'grafana' && s !== 'cadvisor' && s !== 'dcgm-exporter' && s !== 'loki',
    postgres: true,
    stackJobs: [{ job: 'sglang', target: 'ai_sglang:8000' }],
    scrapeInterval: '15s',
    evaluationInterval: '15s',
    externalLabels: { cluster: 'c' },
  });
  const doc = parse(text) as { rule_files: string[]; scrape_configs: { job_name: string; static_configs?: { targets: string[]; labels?: Record<string, string> }[] }[] };
  const job = (n: string) => doc.scrape_configs.find((j) => j.job_name === n);
  assert.deepEqual(job('node')!.static_configs!.map((s) => [s.targets[0], s.labels!.node]), [['10.0.0.1:9100', 'gateway'], ['10.0.0.2:9100', 'data']]);
  assert.deepEqual(job('services')!.static_configs![0]!.targets, ['http://lab_web:8080/health']);
  assert.deepEqual(job('postgres')!.static_configs![0]!.targets, ['postgres-exporter:9187']);
  assert.deepEqual(job('sglang')!.static_configs![0]!.targets, ['ai_sglang:8000']);
  assert.equal(job('grafana'), undefined, 'a skipped service is not scraped (it would be down forever)');
  assert.deepEqual(doc.rule_files, ['rules/*.yml']);
});

test("the real cluster's prometheus.yml: SGLang found in its stacks, Grafana scraped once from the monitoring stack, every job name once", () => {
  const jobs = stackJobs(realStacks().filter((s) => s.name !== 'monitoring'));
  assert.deepEqual(jobs, [{ job: 'sglang', target: 'ai_sglang:8000' }]);
  const text = renderPrometheusConfig({ nodes: [{ name: 'gateway', address: '10.0.0.1' }], nodeExporterPort: 9100, probes: [{ service: 'monitoring_grafana', port: 3001, path: '/api/health' }], running: () => true, postgres: true, stackJobs: jobs, scrapeInterval: '15s', evaluationInterval: '15s', externalLabels: {} });
  const names = (parse(text) as { scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[] }).scrape_configs.map((j) => j.job_name);
  assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'promtool refuses a job name twice');
  assert.equal(names.filter((n) => n === 'grafana').length, 1);
});

test("the real cluster's health checks probed at each container's own port: the published port answers only on the nodes", () => {
  const checks = [
    { service: 'ai_sglang', port: 8000, path: '/health' },
    { service: 'ai_ollama', port: 11434, path: '/api/tags' },
    { service: 'data_gitea', port: 3000, path: '/api/v1/version' },
    { service: 'data_redmine', port: 3002, path: '/' },
    { service: 'monitoring_grafana', port: 3001, path: '/api/health' },
  ];
  const probes = probeTargets(checks, realStacks());
  assert.deepEqual(probes.map((p) => `${p.service}:${p.port}`), ['ai_sglang:8000', 'ai_ollama:11434', 'data_gitea:3000', 'data_redmine:3000', 'monitoring_grafana:3000']);
  // The short form too, with an address and a protocol.
  const dir = mkdtempSync(path.join(tmpdir(), 'probe-'));
  writeFileSync(path.join(dir, 'app.yml'), 'services:\n  web:\n    ports: ["127.0.0.1:8081:80/tcp", "9000:9001"]\n');
  assert.deepEqual(probeTargets([{ service: 'app_web', port: 8081, path: '/' }, { service: 'app_web', port: 9000, path: '/' }, { service: 'app_web', port: 7, path: '/' }], [{ name: 'app', file: path.join(dir, 'app.yml') }]).map((p) => p.port), [80, 9001, 7]);
});

test('Alertmanager sends to Slack (URL from a file) and to webhooks, resolved notices included', () => {
  const doc = parse(renderAlertmanagerConfig({ slack: { channel: '#ops', urlFile: '/etc/alertmanager/slack' }, webhooks: ['http://h:9099/a'], groupWait: '1s', groupInterval: '5s', repeatInterval: '1h' })) as {
    receivers: { slack_configs: { api_url_file: string; send_resolved: boolean }[]; webhook_configs: { url: string; send_resolved: boolean }[] }[];
  };
  assert.equal(doc.receivers[0]!.slack_configs[0]!.api_url_file, '/etc/alertmanager/slack');
  assert.deepEqual(doc.receivers[0]!.webhook_configs, [{ url: 'http://h:9099/a', send_resolved: true }]);
  assert.equal(monitoringDefaults.safeParse({ monitoring_slack: { webhook_url: 'https://hooks.slack.com/x' } }).success, false, 'a plain-text Slack URL is refused');
});

test("alerts.ts's reading of Alertmanager: critical ones, the table, --for, the silence", () => {
  const alerts = parseAlerts(
    JSON.stringify([
      { labels: { alertname: 'HighCPUUsage', severity: 'warning', instance: 'a' }, startsAt: '2026-01-01T00:00:00Z', status: { state: 'active' } },
      { labels: { alertname: 'ServiceDown', severity: 'critical', instance: 'lab_web' }, annotations: { summary: 'down' }, startsAt: '2026-01-01T00:00:00Z', status: { state: 'active' } },
      { labels: { alertname: 'DiskSpaceLow', severity: 'critical' }, startsAt: '2026-01-01T00:00:00Z', status: { state: 'suppressed', silencedBy: ['x'] } },
    ]),
  );
  assert.deepEqual(critical(alerts).map((a) => a.labels.alertname), ['ServiceDown']);
  const table = alertTable(alerts).split('\n');
  assert.match(table[1]!, /^critical\s+ServiceDown\s+lab_web/);
  assert.equal(table.length, 3, 'the silenced alert is not listed');
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('soon'), undefined);
  const body = JSON.parse(silenceBody('ServiceDown', 7_200_000, 'ops', new Date('2026-01-01T00:00:00Z'))) as { matchers: { name: string; value: string }[]; endsAt: string };
  assert.deepEqual(body.matchers[0], { name: 'alertname', value: 'ServiceDown', isRegex: false, isEqual: true });
  assert.equal(body.endsAt, '2026-01-01T02:00:00.000Z');
});
