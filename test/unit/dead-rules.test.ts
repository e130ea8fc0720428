// alerts.ts --dead-rules's verdict: the selectors each loaded rule reads,
// found by Prometheus's own grammar (lezer-promql), over the real rule set
// the monitoring role writes; a series set missing one metric makes exactly
// the rules that read it dead, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { deadRules, deadRulesTable, parseLoadedRules, selectorsOf, selectorsOfRules, seriesCountOf, seriesCountQuery, type LoadedRule } from '../../lib/monitoring/dead-rules.ts';
import { OPERATOR_ALERTS } from '../../roles/monitoring/alerts.ts';
import { renderRules } from '../../roles/monitoring/rules.ts';

/** The rules as Prometheus's /api/v1/rules lists them, from the rule file the role writes for the homelab's mount points. */
function loadedRules(mountpoints = ['/', '/volume1']): LoadedRule[] {
  const file = parse(renderRules({ alerts: OPERATOR_ALERTS, thresholds: {}, durations: {}, mountpoints, interval: '30s' })) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] };
  const api = { status: 'success', data: { groups: file.groups.map((g) => ({ name: g.name, file: '/etc/prometheus/rules/alerts.yml', rules: g.rules.map((r) => ({ name: r.alert, query: r.expr, type: 'alerting', health: 'ok' })) })) } };
  return parseLoadedRules(JSON.stringify(api));
}

/** Every selector has series, but those `missing` names. */
const seriesWithout = (rules: LoadedRule[], missing: (selector: string) => boolean) => new Map(selectorsOfRules(rules).map((s) => [s, missing(s) ? 0 : 3]));
const metricOf = (selector: string) => /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(selector)?.[0] ?? '';

test('the selectors of a rule: each vector selector once, ranges and offsets dropped, absent() left out', () => {
  assert.deepEqual(selectorsOf('100 - (avg by (instance) (irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 80'), ['node_cpu_seconds_total{mode="idle"}']);
  assert.deepEqual(selectorsOf('rate(a_total[5m]) / rate(a_total[5m] offset 1h) > b'), ['a_total', 'b']);
  // absent() is about a series being missing: its selector matching nothing is the rule working.
  assert.deepEqual(selectorsOf('absent(up{job="x"}) or absent_over_time(y[5m]) or z'), ['z']);
  assert.deepEqual(selectorsOf('up{job="sglang"} == 0'), ['up{job="sglang"}']);
});

test('a regex list of plain values is one selector per value; any other regex is checked whole', () => {
  assert.deepEqual(selectorsOf('node_filesystem_avail_bytes{mountpoint=~"/|/volume1", fstype!="tmpfs"}'), [
    'node_filesystem_avail_bytes{mountpoint=~"/", fstype!="tmpfs"}',
    'node_filesystem_avail_bytes{mountpoint=~"/volume1", fstype!="tmpfs"}',
  ]);
  assert.deepEqual(selectorsOf('x{a=~"b.*|c"}'), ['x{a=~"b.*|c"}']);
});

test('every rule of the real rule set reads at least one selector, and each selector parses as PromQL', () => {
  const rules = loadedRules();
  assert.ok(rules.length >= 8);
  for (const r of rules) assert.ok(selectorsOf(r.query).length > 0, `${r.name} reads a series`);
  for (const s of selectorsOfRules(rules)) assert.deepEqual(selectorsOf(s), [s], `${s} is itself one selector`);
});

test('with every selector answered, no rule is dead', () => {
  const rules = loadedRules();
  assert.deepEqual(deadRules(rules, seriesWithout(rules, () => false)), []);
  assert.match(deadRulesTable([]), /no dead rules/);
});

test('a series set missing one metric makes exactly the rules that read it dead, naming the selector', () => {
  const rules = loadedRules();
  const metrics = [...new Set(selectorsOfRules(rules).map(metricOf))];
  assert.ok(metrics.includes('DCGM_FI_DEV_FB_FREE') && metrics.includes('pg_stat_statements_seconds_total'));
  for (const metric of metrics) {
    const dead = deadRules(rules, seriesWithout(rules, (s) => metricOf(s) === metric));
    // Found independently of the parser: the rules whose expression names the metric as a word.
    const expected = rules.filter((r) => new RegExp(`(^|[^A-Za-z0-9_:])${metric}([^A-Za-z0-9_:]|$)`).test(r.query)).map((r) => r.name);
    assert.deepEqual(dead.map((d) => d.name).sort(), expected.sort(), `without ${metric}`);
    for (const d of dead) assert.ok(d.missing.every((s) => metricOf(s) === metric), `${d.name} names only ${metric}'s selectors: ${d.missing.join(', ')}`);
  }
});

test("DiskSpaceLow is dead when the NAS's /volume1 has no series, though / has", () => {
  const rules = loadedRules();
  const dead = deadRules(rules, seriesWithout(rules, (s) => s.includes('"/volume1"')));
  assert.deepEqual(dead.map((d) => [d.name, d.group]), [['DiskSpaceLow', 'system_alerts']]);
  assert.deepEqual(dead[0]!.missing, ['node_filesystem_avail_bytes{mountpoint=~"/volume1"}', 'node_filesystem_size_bytes{mountpoint=~"/volume1"}']);
  assert.match(deadRulesTable(dead), /DiskSpaceLow\s+system_alerts\s+node_filesystem_avail_bytes\{mountpoint=~"\/volume1"\}/);
});

test('a selector Prometheus was not asked about counts as missing', () => {
  const rules = loadedRules();
  const dead = deadRules(rules, new Map());
  assert.deepEqual(dead.map((d) => d.name).sort(), rules.map((r) => r.name).sort());
});

test("the series count is read from Prometheus's instant-query answer; anything else is refused", () => {
  assert.equal(seriesCountOf('{"status":"success","data":{"resultType":"vector","result":[]}}'), 0);
  assert.equal(seriesCountOf('{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"4"]}]}}'), 4);
  assert.throws(() => seriesCountOf('{"status":"error","errorType":"bad_data","error":"parse error"}'), /did not answer the series count/);
  assert.throws(() => parseLoadedRules('{"status":"error"}'), /did not answer with its rule groups/);
  assert.equal(seriesCountQuery('up{job="x"}', '10m'), 'count(last_over_time(up{job="x"}[10m]))');
  // The query is itself valid PromQL reading the same selector.
  assert.deepEqual(selectorsOf(seriesCountQuery('up{job="x"}', '10m')), ['up{job="x"}']);
});
