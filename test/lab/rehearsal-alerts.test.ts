import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { deadRules, seriesCountOf, seriesCountQuery, selectorsOfRules, type LoadedRule } from '../../lib/monitoring/dead-rules.ts';
import { SERIES_WINDOW } from '../../playbooks/dead-rules-play.ts';
import { REHEARSAL_RULE_FOR } from '../../scripts/lab/rehearsal.ts';
import { waitFor } from '../helpers/data-node.ts';
import { onNode } from '../helpers/node.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';

// Issue 29 item 6 and acceptance 2 on the rehearsal of the real cluster: no
// loaded rule reads a series Prometheus lacks (alerts.ts --dead-rules lists
// none), each rule's source is the real one (pg_stat_statements preloaded and
// created, the exporter's collector on, the NAS's /volume1 watched, DCGM's
// free memory served), and once the longest for: has passed nothing fires
// (alerts.ts exits 0). The rehearsal's inventory shortens every for: to
// REHEARSAL_RULE_FOR (scripts/lab/rehearsal.ts). Reads only: the rehearsal is
// left as it was found.
let inv: string;
before(async () => {
  inv = await convergedRehearsal();
});

async function gateway(command: ReturnType<typeof sh>): Promise<string> {
  const r = await onNode(inv, 'gateway', command);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}
/** Prometheus's API on the manager, as alerts.ts asks it (its published port). */
const prom = async <T>(path: string): Promise<T> => (JSON.parse(await gateway(sh`curl -fsS -m 10 ${`http://127.0.0.1:9090${path}`}`)) as { data: T }).data;
const query = async (q: string) => gateway(sh`curl -fsS -m 10 -G --data-urlencode ${`query=${q}`} http://127.0.0.1:9090/api/v1/query`);
const seriesOf = async (selector: string) => seriesCountOf(await query(seriesCountQuery(selector, SERIES_WINDOW)));

type RuleGroups = { groups: { name: string; interval: number; rules: { name: string; query: string; duration: number; state: string }[] }[] };

test('alerts.ts --dead-rules lists no rule on the converged rehearsal: every selector of every loaded rule has series', async () => {
  // A fresh converge's exporters need a scrape or two (pg_stat_statements rows appear once the exporter has queried).
  let last = '';
  await waitFor('alerts.ts --dead-rules exits 0', async () => {
    const r = await onRehearsal('playbooks/alerts.ts', ['--dead-rules'], 5 * 60_000);
    last = `${r.stdout}\n${r.stderr}`;
    return r.code === 0;
  }, 5 * 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; its last output:\n${last}`);
  });
  assert.match(last, /no dead rules/);
  const json = await onRehearsal('playbooks/alerts.ts', ['--dead-rules', '--json']);
  assert.equal(json.code, 0, json.stdout + json.stderr);
  const report = json.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; text?: string }).find((e) => e.type === 'report');
  assert.deepEqual(JSON.parse(report!.text!), []);
});

test("each rule's source is the real one: /volume1 watched on the NAS, pg_stat_statements preloaded and created, DCGM's free memory, no build-failure rule", async () => {
  const rules = new Map((await prom<RuleGroups>('/api/v1/rules')).groups.flatMap((g) => g.rules.map((r) => [r.name, r.query])));
  assert.match(rules.get('DiskSpaceLow')!, /\/volume1/);
  assert.equal(rules.has('HighBuildFailureRate'), false, 'removed: nothing exports build counts');
  assert.ok((await seriesOf('node_filesystem_avail_bytes{node="data.vibe.local", mountpoint="/volume1"}')) > 0, "the NAS's data volume, as node-exporter reports it");
  assert.ok((await seriesOf('pg_stat_statements_calls_total')) > 0);
  assert.ok((await seriesOf('DCGM_FI_DEV_FB_FREE')) > 0);
  const pg = (sql: string) => onNode(inv, 'data', sh`docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=gateway_postgres) psql -U vibe -d vibedb -AtX -c ${sql}`);
  assert.equal((await pg('SHOW shared_preload_libraries')).stdout.trim(), 'pg_stat_statements');
  assert.equal((await pg("SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'")).stdout.trim(), 'pg_stat_statements');
});

test("the check would have caught item 6: main's build-failure rule (2351108) is dead on the rehearsal", async () => {
  // The rule as main loaded it, before this change removed it (no exporter has gitea_builds_*).
  const mainRules: LoadedRule[] = [
    { name: 'HighBuildFailureRate', group: 'cicd_alerts', query: '(sum(rate(gitea_builds_failed_total[1h])) / sum(rate(gitea_builds_total[1h]))) * 100 > 20' },
    { name: 'ContainerDown', group: 'system_alerts', query: 'up == 0' },
  ];
  const counts = new Map<string, number>();
  for (const s of selectorsOfRules(mainRules)) counts.set(s, await seriesOf(s));
  const dead = deadRules(mainRules, counts);
  assert.deepEqual(dead.map((d) => [d.name, d.missing]), [['HighBuildFailureRate', ['gitea_builds_failed_total', 'gitea_builds_total']]]);
});

test('once the longest for: has passed nothing fires: alerts.ts lists no alert and exits 0', async () => {
  const groups = (await prom<RuleGroups>('/api/v1/rules')).groups;
  const longest = Math.max(...groups.flatMap((g) => g.rules.map((r) => r.duration)));
  const interval = Math.max(...groups.map((g) => g.interval));
  assert.equal(`${longest / 60}m`, REHEARSAL_RULE_FOR, "the rehearsal's inventory shortened every for:");
  // Polled, not slept: the rules have been loaded for longer than the longest for: plus two evaluations, and
  // no rule is pending or firing (a pending one would fire within its for:).
  const loadedFor = async () => Number(JSON.parse(await query('time() - prometheus_config_last_reload_success_timestamp_seconds')).data.result[0]?.value[1] ?? 0);
  const active = async () => (await prom<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')).alerts;
  // Then alerts.ts, which reads Alertmanager: an alert resolved in Prometheus a moment ago may still be
  // on its way there, so it is asked again until it agrees (or the deadline names what fires).
  let last = '';
  const quiet = async () => {
    if ((await loadedFor()) < longest + 2 * interval || (await active()).length > 0) return false;
    const r = await onRehearsal('playbooks/alerts.ts');
    last = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
    return r.code === 0 && /no alerts firing/.test(r.stdout);
  };
  await waitFor('the longest for: passed with no rule pending or firing, and alerts.ts exits 0 listing none', quiet, (longest + 5 * interval) * 1000 + 5 * 60_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: Prometheus's alerts: ${(await active()).map((a) => `${a.labels.alertname} ${a.labels.instance ?? ''} ${a.state}`).join(', ')}; alerts.ts: ${last}`);
  });
  assert.match(last, /^exit 0\n[\s\S]*no alerts firing/);
});
