import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { HOMELAB_VAULT_PASSWORD, HOST_OF, REHEARSAL_INVENTORY } from '../../scripts/lab/rehearsal.ts';
import { itemName } from '../../lib/backup/config.ts';
import { backupVarsOf, clusterData } from '../helpers/cluster-data.ts';
import { runCli } from '../helpers/cli.ts';
import { lab, resetLab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';
import { convergedRehearsal, REHEARSAL_ENV } from '../helpers/rehearsal.ts';

// The rehearsal of the real cluster (test/lab/rehearsal.test.ts converges it) backed up and recovered
// after every node is lost. Last of the rehearsal suites: it resets the nodes.
let inv: string;
const env = REHEARSAL_ENV;

before(async () => {
  inv = await convergedRehearsal();
});
// The suites after this one expect fresh nodes (no Docker, no swarm, no stacks).
after(() => resetLab());

// Acceptance 3: the whole real cluster backed up on every node that holds
// data, the lab reset (every node's Docker, volumes and files gone; the backup
// disks kept), and `disaster-recovery.ts --from latest` bringing back every
// volume, configuration file and database row from each node's newest set.
test('backup.ts takes a verified set on every node; after a reset, disaster-recovery.ts --from latest restores every volume, config file and row; health is green', async (t) => {
  const hosts = await backupVarsOf(REHEARSAL_INVENTORY, HOMELAB_VAULT_PASSWORD);
  assert.deepEqual([...hosts.keys()].sort(), ['ai.vibe.local', 'cicd.vibe.local', 'data.vibe.local', 'gateway.vibe.local']);
  const nodeOf = (h: string) => HOST_OF[h]!;
  // The operators' configuration where they keep it (homelab.yml: paths_if_present), and rows in every database, each table its application's.
  await onNode(inv, 'gateway', sh`mkdir -p /etc/nginx/conf.d && printf 'server { listen 8080; }\n' > /etc/nginx/conf.d/vibe.conf`);
  await onNode(inv, 'ai', sh`mkdir -p /opt/sglang/bin && printf '#!/bin/sh\nexec python3 -m sglang.launch_server "$@"\n' > /opt/sglang/bin/launch && chmod 755 /opt/sglang/bin/launch`);
  for (const [db, owner] of [['vibedb', 'vibe'], ['giteadb', 'gitea'], ['redminedb', 'redmine'], ['n8n', 'n8n']] as const) {
    const sql = `SET ROLE ${owner}; CREATE TABLE drill (id serial PRIMARY KEY, note text NOT NULL); INSERT INTO drill (note) SELECT '행 ' || g || ' 🚀' FROM generate_series(1, ${db.length * 100}) g;`;
    const r = await onNode(inv, 'data', sh`docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=gateway_postgres) psql -X -q -v ON_ERROR_STOP=1 -U vibe -d ${db} -c ${sql}`);
    assert.equal(r.code, 0, `rows in ${db}: ${r.stderr}`);
  }
  const before = await clusterData(inv, hosts, nodeOf, 'data');
  assert.ok(Object.keys(before.files).some((k) => k === 'gateway config /etc/nginx/conf.d/vibe.conf'), Object.keys(before.files).join('\n'));
  for (const v of ['gateway_portainer_data', 'gateway_npm_letsencrypt', 'gateway_n8n_data', 'monitoring_grafana_data', 'monitoring_loki_data', 'monitoring_prometheus_data', 'ai_ollama_data', 'cicd_registry_data', 'data_gitea_data', 'data_redmine_files']) {
    assert.ok(Object.keys(before.files).some((k) => k.split(' ')[1] === v), `the stand-in wrote into ${v}`);
  }
  assert.equal(before.rows['giteadb public.drill'], 700);
  t.diagnostic(`compared after the recovery: ${Object.keys(before.files).length} files, ${Object.keys(before.rows).length} tables`);

  const backup = await runCli(['playbooks/backup.ts', '-i', REHEARSAL_INVENTORY], env, 10 * 60_000);
  assert.equal(backup.code, 0, `backup.ts:\n${backup.stdout}\n${backup.stderr}`);
  // Every host's set holds every item of its inventory (test/unit/backup-coverage.test.ts: they cover every stateful mount).
  for (const [host, v] of hosts) {
    const m = /^(\S+): set (\d{8}_\d{6}), (\d+) items verified/m.exec(backup.stdout.split('\n').filter((l) => l.startsWith(`${host}:`)).join('\n'));
    assert.ok(m, `${host} published a set:\n${backup.stdout}`);
    assert.equal(Number(m[3]), v.backup_items.length, `${host}: every item`);
    const manifest = JSON.parse((await onNode(inv, nodeOf(host), sh`cat ${`${v.backup_root}/${m[2]}/manifest.json`}`)).stdout) as { items: { name: string; absent?: string[] }[] };
    assert.deepEqual(manifest.items.map((i) => i.name).sort(), v.backup_items.map(itemName).sort(), host);
  }

  resetLab();
  // The reset nodes are fresh Debian hosts: `lab.ts rehearse` makes the data node a DSM stand-in and the model's directory again.
  const again = lab(['rehearse']);
  assert.equal(again.code, 0, `lab.ts rehearse after a reset:\n${again.stdout}\n${again.stderr}`);
  assert.equal((await onNode(inv, 'gateway', sh`! test -e /etc/nginx && ! command -v docker`)).code, 0, 'the reset wiped the gateway (no /etc/nginx, no Docker)');

  const recovery = await runCli(['playbooks/disaster-recovery.ts', '-i', REHEARSAL_INVENTORY, '--from', 'latest'], env, 20 * 60_000);
  assert.equal(recovery.code, 0, `disaster-recovery.ts:\n${recovery.stdout}\n${recovery.stderr}`);
  t.diagnostic(recovery.stdout.slice(recovery.stdout.lastIndexOf('recovery from set')));
  assert.match(recovery.stdout, /health: every service running and answering/, recovery.stdout);
  for (const host of hosts.keys()) assert.match(recovery.stdout, new RegExp(`recovery from set .*\\d{8}_\\d{6} \\(${host.replace(/\./g, '\\.')}\\)`), `the report names ${host}'s set`);

  const after = await clusterData(inv, hosts, nodeOf, 'data');
  // Prometheus and Alertmanager (the Debian-built programs, live) write into their volumes after the
  // restore too: each of their files is back; every other volume's file is back byte for byte.
  const live = (k: string) => /^gateway monitoring_(prometheus|alertmanager)_data /.test(k);
  for (const [k, sum] of Object.entries(before.files)) {
    if (live(k)) assert.ok(k in after.files, `${k} restored`);
    else assert.equal(after.files[k], sum, `${k} restored byte for byte`);
  }
  assert.ok(Object.keys(before.files).some(live), "Prometheus's data was in the set");
  assert.deepEqual(after.rows, before.rows);

  const health = await runCli(['playbooks/health.ts', '-i', REHEARSAL_INVENTORY], env, 5 * 60_000);
  assert.equal(health.code, 0, `health.ts after the recovery:\n${health.stdout}\n${health.stderr}`);
});
