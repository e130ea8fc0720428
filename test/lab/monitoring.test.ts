import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ensurePushed } from '../../scripts/lab/services.ts';
import { monitoringImageMap, monitoringImages } from '../../scripts/lab/monitoring-images.ts';
import { LAB_DISK_MOUNT } from '../../scripts/lab/inventory.ts';
import { runCli } from '../helpers/cli.ts';
import { ensureLab } from '../helpers/lab.ts';
import { jsonEvents, labShell, waitFor } from '../helpers/data-node.ts';

// Issue 18's acceptance on the lab: the monitoring stack from images built
// on the lab from Debian's packages (scripts/lab/monitoring-images.ts),
// deployed by a plain site.ts (the lab inventory turns monitoring on, as
// the real cluster's does); alerts that really fire (the lab's durations are
// shortened by inventory variables, inventory/lab.yml) and reach a webhook
// receiver on the gateway node; a threshold change that only rewrites the
// rule file and reloads Prometheus; an invalid override refused before
// anything runs; alerts.ts reading Alertmanager. Grafana, Loki, Promtail,
// cAdvisor and DCGM are not in Debian's archive: the lab leaves them out
// (their files are checked by test/unit/grafana-provisioning.test.ts).
let inv: string;
const { node } = labShell(() => inv);
/** An extra-vars override of the lab inventory's monitoring variables. */
const override = (vars: Record<string, unknown>) => ['-e', JSON.stringify(vars)];
const site = (args: string[] = []) => runCli(['playbooks/site.ts', '--json', ...args], {}, 10 * 60_000);
const OPERATORS = ['HighCPUUsage', 'HighMemoryUsage', 'DiskSpaceLow', 'ContainerDown', 'SGLangServiceDown', 'GPUMemoryHigh', 'PostgreSQLHighConnections', 'PostgreSQLSlowQueries'];
// The lab inventory's values (inventory/lab.yml): ServiceDown's for: and the evaluation interval, and Alertmanager's group wait.
const HOOK = 'rigger-alert-hook';
const FOR_S = 15;
const EVAL_S = 5;
const GROUP_WAIT_S = 1;

async function gw(script: string): Promise<string> {
  const r = await node('gateway', script);
  if (r.code !== 0) throw new Error(`gateway: ${script}\n${r.stderr}`);
  return r.stdout;
}
const prom = async <T>(path: string): Promise<T> => (JSON.parse(await gw(`curl -fsS -m 5 -g 'http://127.0.0.1:9090${path}'`)) as { data: T }).data;

interface Hook {
  t: number;
  body: { status: string; alerts: { status: string; labels: Record<string, string> }[] };
}
const hooks = async (): Promise<Hook[]> => (await gw(`cat /tmp/${HOOK}/alerts.log 2>/dev/null || true`)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Hook);
/** What Prometheus holds as alerts, for a failure's message. */
const explain = async (err: Error): Promise<never> => {
  throw new Error(`${err.message}; Prometheus's alerts: ${JSON.stringify(await prom('/api/v1/alerts'))}; webhooks: ${JSON.stringify(await hooks())}`);
};
const notified = async (alert: string, status: 'firing' | 'resolved', where: (l: Record<string, string>) => boolean) =>
  (await hooks()).find((h) => h.body.alerts.some((a) => a.labels.alertname === alert && a.status === status && where(a.labels)));

/** Every task of every service in the swarm: a restarted service has new ones. */
const taskIds = async () => (await gw(`docker service ps -q $(docker service ls -q) | sort`)).trim();
const changedTasks = (stdout: string) => jsonEvents(stdout).filter((e) => e.type === 'task-host' && e.status === 'changed').map((e) => e.task!);

before(async () => {
  inv = ensureLab();
  await ensurePushed(monitoringImages(), () => {});
  // The data node's small file system (the lab's monitoring_disk_mountpoints), which node-exporter
  // must see in its bind mount of /; the disk test fills it.
  const disk = await node('data', `mkdir -p ${LAB_DISK_MOUNT} && (mountpoint -q ${LAB_DISK_MOUNT} || mount -t tmpfs -o size=8m lab-disk ${LAB_DISK_MOUNT})`);
  assert.equal(disk.code, 0, disk.stderr);
  const s = await site();
  assert.equal(s.code, 0, `site.ts converges the lab with monitoring:\n${s.stdout.split('\n').filter((l) => /"failed"|error/i.test(l)).join('\n')}\n${s.stderr}`);
  // A node-exporter an earlier suite's converge started before the mount does not see it (the lab
  // nodes' / is not a shared mount): its task is replaced, and Swarm's new one binds / with it.
  const stale = await node('data', `c=$(docker ps -q --filter label=com.docker.swarm.service.name=monitoring_node-exporter | head -n1); if [ -n "$c" ] && ! docker exec "$c" grep -q " /host${LAB_DISK_MOUNT} " /proc/mounts; then docker rm -f "$c" >/dev/null && echo replaced; fi`);
  assert.equal(stale.code, 0, stale.stderr);
  // The alert receiver (the lab inventory's monitoring_webhook_urls), once the network exists: a
  // container on the monitoring network, which Alertmanager reaches by name; each line stamped with the lab's one clock.
  const image = monitoringImageMap()['prom/prometheus:v2.55.1']!;
  await gw(`docker rm -f ${HOOK} >/dev/null 2>&1; rm -rf /tmp/${HOOK} && mkdir -p /tmp/${HOOK} && docker run -d --name ${HOOK} --network monitoring -v /tmp/${HOOK}:/log --entrypoint python3 ${image} -c 'import http.server, json, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        open("/log/alerts.log", "a").write(json.dumps({"t": time.time(), "body": body}) + "\\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("0.0.0.0", 9099), H).serve_forever()' >/dev/null`);
});

after(async () => {
  if (!inv) return;
  // The lab as the next suite expects it: the web service at its replicas, the monitoring stack
  // left converged (every site run on the lab deploys it), the suite's receiver gone.
  await node('gateway', `docker service scale -d lab_web=2 >/dev/null; docker rm -f ${HOOK} >/dev/null`);
  await node('data', `rm -f ${LAB_DISK_MOUNT}/fill; umount ${LAB_DISK_MOUNT} 2>/dev/null; true`);
});

test("site.ts deploys the monitoring stack: every node's exporter and the PostgreSQL exporter up, every operators' rule loaded", async () => {
  type Targets = { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
  const up = async () => (await prom<Targets>('/api/v1/targets')).activeTargets;
  const allUp = (t: Targets['activeTargets']) => t.filter((x) => x.labels.job === 'node' && x.health === 'up').length === 4 && t.some((x) => x.labels.job === 'postgres' && x.health === 'up');
  await waitFor('every exporter up', async () => allUp(await up())).catch(async (err: Error) => {
    throw new Error(`${err.message}:\n${(await up()).map((x) => `${x.labels.job} ${x.labels.instance} ${x.health} ${x.lastError}`).join('\n')}`);
  });
  const t = await up();
  assert.deepEqual(t.filter((x) => x.labels.job === 'node').map((x) => x.labels.node).sort(), ['ai', 'cicd', 'data', 'gateway']);
  // The exporter is up and really reads the database (pg_up is its connection's health).
  const pgUp = await prom<{ result: { value: [number, string] }[] }>('/api/v1/query?query=pg_up');
  assert.equal(pgUp.result[0]?.value[1], '1', 'the PostgreSQL exporter reaches lab_postgres');
  const rules = await prom<{ groups: { rules: { name: string; query: string }[] }[] }>('/api/v1/rules');
  const loaded = new Map(rules.groups.flatMap((g) => g.rules.map((r) => [r.name, r.query])));
  for (const name of OPERATORS) assert.ok(loaded.has(name), `${name} is loaded`);
  assert.match(loaded.get('PostgreSQLSlowQueries')!, /pg_stat_statements_seconds_total/, 'the corrected slow-query rule');
  // Loki's configuration is written beside the others (Loki itself does not run in the lab: not in Debian's archive).
  assert.match(await gw('cat /opt/monitoring/loki/config.yml'), /retention_period: 30d/);
});

test('stopping the web service fires ServiceDown at the webhook within for: + two evaluations; alerts.ts lists it and fails; restoring resolves it', async () => {
  await gw('docker service scale -d lab_web=0 >/dev/null');
  await waitFor('ServiceDown at the webhook', async () => (await notified('ServiceDown', 'firing', (l) => l.instance === 'lab_web')) !== undefined, 120_000).catch(explain);
  const fired = (await notified('ServiceDown', 'firing', (l) => l.instance === 'lab_web'))!;
  // When Prometheus first saw the service down: its first failed probe sample.
  const samples = await prom<{ result: { values: [number, string][] }[] }>(`/api/v1/query?query=probe_success{instance="lab_web"}[5m]`);
  const values = samples.result[0]!.values;
  let lastUp = -1;
  values.forEach(([, v], i) => {
    if (v === '1') lastUp = i;
  });
  const down = values[lastUp + 1]![0];
  const delay = fired.t - down;
  const bound = FOR_S + 2 * EVAL_S + GROUP_WAIT_S;
  assert.ok(delay <= bound, `notified ${delay.toFixed(1)} s after the first failed probe (bound ${bound} s)`);
  console.log(`# ServiceDown notified ${delay.toFixed(1)} s after the first failed probe (for: ${FOR_S} s, evaluation ${EVAL_S} s)`);

  const alerts = await runCli(['playbooks/alerts.ts'], {}, 120_000);
  assert.notEqual(alerts.code, 0, 'alerts.ts exits non-zero while a critical alert fires');
  assert.match(alerts.stdout, /critical\s+ServiceDown\s+lab_web/, alerts.stdout + alerts.stderr);

  await gw('docker service scale -d lab_web=2 >/dev/null');
  await waitFor('the resolved notice', async () => (await notified('ServiceDown', 'resolved', (l) => l.instance === 'lab_web')) !== undefined, 120_000);
});

test('filling a node’s disk past the threshold fires DiskSpaceLow', async () => {
  // The data node's small file system (mounted in before()), filled to 90 %.
  const r = await node('data', `head -c 7500000 /dev/zero > ${LAB_DISK_MOUNT}/fill`);
  assert.equal(r.code, 0, r.stderr);
  await waitFor('DiskSpaceLow at the webhook', async () => (await notified('DiskSpaceLow', 'firing', (l) => l.node === 'data')) !== undefined, 120_000).catch(explain);
  await node('data', `rm -f ${LAB_DISK_MOUNT}/fill`);
});

test('a threshold change: --check --diff shows the one rule line; the run rewrites only the rule file and reloads Prometheus; no task restarts', async () => {
  const reloads = async () => Number((await prom<{ result: { value: [number, string] }[] }>('/api/v1/query?query=prometheus_config_last_reload_success_timestamp_seconds')).result[0]!.value[1]);
  const tasksBefore = await taskIds();
  const rulesBefore = await gw('cat /opt/monitoring/prometheus/rules/alerts.yml');
  const change = override({ monitoring_thresholds: { HighMemoryUsage: 70 } });

  const check = await runCli(['playbooks/site.ts', '--check', '--diff', ...change], {}, 10 * 60_000);
  assert.equal(check.code, 0, check.stderr);
  const diffLines = check.stdout.split('\n').filter((l) => /^\s*(\[gateway\] )?[-+]\s+expr:/.test(l));
  assert.equal(diffLines.length, 2, `one line out, one in:\n${check.stdout}`);
  assert.match(diffLines[0]!, /\] -\s+expr: .*node_memory.* > 85$/);
  assert.match(diffLines[1]!, /\] \+\s+expr: .*node_memory.* > 70$/);
  assert.equal(await gw('cat /opt/monitoring/prometheus/rules/alerts.yml'), rulesBefore, 'check mode wrote nothing');

  const reloadedBefore = await reloads();
  const run = await runCli(['playbooks/site.ts', '--json', ...change], {}, 10 * 60_000);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(changedTasks(run.stdout).sort(), ['alert rules', 'reload prometheus']);
  await waitFor('Prometheus to reload the rule', async () => (await reloads()) > reloadedBefore);
  const rules = await prom<{ groups: { rules: { name: string; query: string }[] }[] }>('/api/v1/rules');
  assert.match(rules.groups.flatMap((g) => g.rules).find((r) => r.name === 'HighMemoryUsage')!.query, / > 70$/);
  assert.equal(await taskIds(), tasksBefore, 'no service restarted: every task ID is the same');

  // Back to the inventory's values, the same way.
  const back = await site();
  assert.deepEqual(changedTasks(back.stdout).sort(), ['alert rules', 'reload prometheus']);
});

test('an invalid expression in a threshold override fails the run before any host changes, naming the rule', async () => {
  const rulesBefore = await gw('sha256sum /opt/monitoring/prometheus/rules/alerts.yml');
  const r = await runCli(['playbooks/site.ts', ...override({ monitoring_thresholds: { DiskSpaceLow: '15 and' } })], {}, 120_000);
  assert.notEqual(r.code, 0);
  const out = r.stdout + r.stderr;
  assert.match(out, /DiskSpaceLow/);
  assert.match(out, /not valid PromQL/);
  assert.doesNotMatch(out, /PLAY \[/, 'no play started');
  assert.equal(await gw('sha256sum /opt/monitoring/prometheus/rules/alerts.yml'), rulesBefore);
});
