// playbooks/alerts.ts --dead-rules end to end on this machine: the play asks
// a local HTTP server speaking Prometheus's API (GET /api/v1/rules with the
// real rule file the monitoring role writes, GET /api/v1/query answering the
// series count of each selector from a series set) with curl, as it asks the
// first manager's Prometheus; the verdict, the table, --json and the exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { parse } from 'yaml';
import { OPERATOR_ALERTS } from '../../roles/monitoring/alerts.ts';
import { renderRules } from '../../roles/monitoring/rules.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/run.ts';

const RULES = parse(renderRules({ alerts: OPERATOR_ALERTS, thresholds: {}, durations: {}, mountpoints: ['/', '/volume1'], interval: '30s' })) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] };
const RULES_BODY = JSON.stringify({ status: 'success', data: { groups: RULES.groups.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ name: r.alert, query: r.expr, type: 'alerting' })) })) } });

/** A Prometheus API on a free port whose series are those `has` accepts; every query it was asked, in order. */
async function prometheus(has: (selector: string) => boolean, rulesBody = RULES_BODY) {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/api/v1/rules') return res.end(rulesBody);
    const query = url.searchParams.get('query') ?? '';
    asked.push(query);
    const selector = /^count\(last_over_time\((.*)\[10m\]\)\)$/.exec(query)?.[1];
    if (url.pathname !== '/api/v1/query' || selector === undefined) {
      res.statusCode = 400;
      return res.end(JSON.stringify({ status: 'error', error: `unexpected ${req.url}` }));
    }
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: has(selector) ? [{ metric: {}, value: [1, '2'] }] : [] } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const file = path.join(scratchDir(), 'hosts.yml');
  writeFileSync(file, `all:\n  vars:\n    ansible_connection: local\n    monitoring_prometheus_url: "http://127.0.0.1:${port}"\n  children:\n    managers:\n      hosts:\n        m1:\n`);
  return { inv: file, asked, close: () => server.close() };
}

test('--dead-rules: every selector with series, exit 0 and "no dead rules"; each selector asked once, intact', async () => {
  const p = await prometheus(() => true);
  try {
    const r = await runCli(['playbooks/alerts.ts', '-i', p.inv, '--dead-rules']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no dead rules/);
    // Quotes, braces and =~ reach Prometheus as written.
    assert.ok(p.asked.includes('count(last_over_time(node_filesystem_avail_bytes{mountpoint=~"/volume1"}[10m]))'), p.asked.join('\n'));
    assert.ok(p.asked.includes('count(last_over_time(up{job="sglang"}[10m]))'));
    assert.equal(new Set(p.asked).size, p.asked.length, 'no selector asked twice');
  } finally {
    p.close();
  }
});

test('--dead-rules: a metric without series makes exactly its rules dead: listed with group and selector, exit 2; --json the same', async () => {
  const p = await prometheus((s) => !s.startsWith('pg_stat_statements_') && !s.includes('"/volume1"'));
  try {
    const r = await runCli(['playbooks/alerts.ts', '-i', p.inv, '--dead-rules']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /PostgreSQLSlowQueries\s+database_alerts\s+pg_stat_statements_calls_total\s+pg_stat_statements_seconds_total/);
    assert.match(r.stdout, /DiskSpaceLow\s+system_alerts\s+node_filesystem_avail_bytes\{mountpoint=~"\/volume1"\}/);
    const j = await runCli(['playbooks/alerts.ts', '-i', p.inv, '--dead-rules', '--json']);
    assert.equal(j.code, 2);
    // --json: the report is one {"type":"report","text":...} event before the recap (docs/cli.md); its text is the JSON list.
    const event = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; text?: string }).find((e) => e.type === 'report')!;
    const report = JSON.parse(event.text!) as { name: string; group: string; missing: string[] }[];
    assert.deepEqual(report.map((d) => d.name).sort(), ['DiskSpaceLow', 'PostgreSQLSlowQueries']);
  } finally {
    p.close();
  }
});

test('--dead-rules: Prometheus failing to answer fails the run, never reads as "no series"', async () => {
  const p = await prometheus(() => true);
  p.close();
  const r = await runCli(['playbooks/alerts.ts', '-i', p.inv, '--dead-rules']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /Prometheus was not read/);
});

test('--dead-rules: no rule loaded is a failure, not "none dead"', async () => {
  const p = await prometheus(() => true, JSON.stringify({ status: 'success', data: { groups: [] } }));
  try {
    const r = await runCli(['playbooks/alerts.ts', '-i', p.inv, '--dead-rules']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /Prometheus has loaded no rules/);
  } finally {
    p.close();
  }
});
