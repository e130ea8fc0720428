import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { HOMELAB_VAULT_PASSWORD, HOST_OF, REHEARSAL_INVENTORY } from '../../scripts/lab/rehearsal.ts';
import { itemName } from '../../lib/backup/config.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { pitrVars, type PitrConfig } from '../../lib/pitr/config.ts';
import { waitFor } from '../helpers/data-node.ts';
import { backupVarsOf, clusterData } from '../helpers/cluster-data.ts';
import { runCli } from '../helpers/cli.ts';
import { lab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';
import { convergedRehearsal, REHEARSAL_ENV } from '../helpers/rehearsal.ts';

// The rehearsal of the real cluster (test/lab/rehearsal.test.ts converges it) backed up and recovered
// after one node is lost, then after every node is lost. The recovered rehearsal is left converged for
// the suites after it (scripts/test-lab.ts). The nodes are made the real cluster's again with the SGLang
// stand-in loading for QUICK_MODEL_LOAD seconds: these drills test what comes back, not the model's load
// (rehearsal-deploy-window does, with the real 120 s), and each would otherwise wait it out.
let inv: string;
const env = REHEARSAL_ENV;
const QUICK_MODEL_LOAD = 10;
const rehearseAgain = () => lab(['rehearse', '--model-load', String(QUICK_MODEL_LOAD)]);

before(async () => {
  inv = await convergedRehearsal();
});

// Issue 30, acceptance 4 then 3, on the rehearsal of the real cluster: every
// node that holds data takes a verified set, with its second copy on its copy
// host (the NAS stand-in for the others, cicd for the NAS) and an encrypted
// off-site copy on the lab remote (the stand-in for the operators' B2). Then
// one node's disk is lost (`lab.ts reset --all ai`: its Docker, volumes, files
// and backup volume) and `disaster-recovery.ts --from latest` rebuilds it from
// the copy on the NAS while the other nodes keep what they hold; then every
// node is lost, backup volumes included (`lab.ts reset --all`), and
// `--from-offsite` brings the whole rehearsal back from the remote alone.
let saved: Awaited<ReturnType<typeof clusterData>>;
let hosts: Awaited<ReturnType<typeof backupVarsOf>>;
const nodeOf = (h: string) => HOST_OF[h]!;
// Prometheus and Alertmanager (the Debian-built programs, live) write into their volumes after the
// restore too: each of their files is back; every other volume's file is back byte for byte.
const live = (k: string) => /^gateway monitoring_(prometheus|alertmanager)_data /.test(k);
const sameData = (after: typeof saved, only?: (k: string) => boolean) => {
  for (const [k, sum] of Object.entries(saved.files)) {
    if (only && !only(k)) continue;
    if (live(k)) assert.ok(k in after.files, `${k} restored`);
    else assert.equal(after.files[k], sum, `${k} restored byte for byte`);
  }
};
/**
 * Point-in-time archiving started again by the recovery (playbooks/pitr-again.ts): the archiver
 * streams through its slot on the database host, and the archive host's newest base backup is of
 * the cluster running now (its pg_control's system identifier, the first 8 bytes, little-endian on
 * the lab's x86 nodes), not of one the recovery replaced.
 */
async function archivingAgain(out: string) {
  const loaded = await loadInventories([REHEARSAL_INVENTORY], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const pitr: PitrConfig | undefined = pitrVars.parse(Object.fromEntries([...loaded.varsFor('data.vibe.local')].map(([k, v]) => [k, v.value]))).postgres_pitr;
  assert.ok(pitr, "the rehearsal carries homelab.yml's postgres_pitr");
  assert.match(out, /point-in-time archiving: started again/, out);
  const psql = async (sql: string) => {
    const r = await onNode(inv, nodeOf(pitr.database_host), sh`docker exec "$(docker ps -q --filter label=com.docker.swarm.service.name=${pitr.service} --filter status=running | head -n1)" psql -X -q -v ON_ERROR_STOP=1 -U ${pitr.admin} -d postgres -tAc ${sql}`);
    assert.equal(r.code, 0, `psql on ${pitr.database_host}: ${r.stderr}`);
    return r.stdout.trim();
  };
  await waitFor('the archiver streaming through its slot', async () => (await psql(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${pitr.slot}' AND active`)) === '1');
  const cluster = await psql('SELECT system_identifier FROM pg_control_system()');
  const base = await onNode(inv, nodeOf(pitr.archive_host), sh`cd -- ${`${pitr.archive_dir}/base`} && b=$(ls -1 | grep -E '^[0-9]{8}_[0-9]{6}$' | tail -n1) && tar -xzOf "$b/base.tar.gz" global/pg_control | od -An -t u8 -N 8`);
  assert.equal(base.code, 0, `a base backup on ${pitr.archive_host}: ${base.stderr}`);
  assert.equal(base.stdout.trim(), cluster, 'the newest base backup is of the recovered cluster');
}

/** The report's "items and where they came from" lines of one host. */
const originLines = (out: string, host: string) => out.split('\n').filter((l) => l.includes(` (${host}): `));

test('backup.ts takes a verified set on every node with a verified copy on its copy host, and an off-site copy', async (t) => {
  hosts = await backupVarsOf(REHEARSAL_INVENTORY, HOMELAB_VAULT_PASSWORD);
  assert.deepEqual([...hosts.keys()].sort(), ['ai.vibe.local', 'cicd.vibe.local', 'data.vibe.local', 'gateway.vibe.local']);
  // The operators' configuration where they keep it (homelab.yml: paths_if_present), and rows in every database, each table its application's.
  await onNode(inv, 'gateway', sh`mkdir -p /etc/nginx/conf.d && printf 'server { listen 8080; }\n' > /etc/nginx/conf.d/vibe.conf`);
  await onNode(inv, 'ai', sh`mkdir -p /opt/sglang/bin && printf '#!/bin/sh\nexec python3 -m sglang.launch_server "$@"\n' > /opt/sglang/bin/launch && chmod 755 /opt/sglang/bin/launch`);
  for (const [db, owner] of [['vibedb', 'vibe'], ['giteadb', 'gitea'], ['redminedb', 'redmine'], ['n8n', 'n8n']] as const) {
    // Dropped first: a rehearsal this suite recovered before (it is left converged) still holds the last run's table.
    const sql = `SET ROLE ${owner}; DROP TABLE IF EXISTS drill; CREATE TABLE drill (id serial PRIMARY KEY, note text NOT NULL); INSERT INTO drill (note) SELECT '행 ' || g || ' 🚀' FROM generate_series(1, ${db.length * 100}) g;`;
    const r = await onNode(inv, 'data', sh`docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=gateway_postgres) psql -X -q -v ON_ERROR_STOP=1 -U vibe -d ${db} -c ${sql}`);
    assert.equal(r.code, 0, `rows in ${db}: ${r.stderr}`);
  }
  saved = await clusterData(inv, hosts, nodeOf, 'data');
  assert.ok(Object.keys(saved.files).some((k) => k === 'gateway config /etc/nginx/conf.d/vibe.conf'), Object.keys(saved.files).join('\n'));
  for (const v of ['gateway_portainer_data', 'gateway_npm_letsencrypt', 'gateway_n8n_data', 'monitoring_grafana_data', 'monitoring_loki_data', 'monitoring_prometheus_data', 'ai_ollama_data', 'cicd_registry_data', 'data_gitea_data', 'data_redmine_files']) {
    assert.ok(Object.keys(saved.files).some((k) => k.split(' ')[1] === v), `the stand-in wrote into ${v}`);
  }
  assert.equal(saved.rows['giteadb public.drill'], 700);
  t.diagnostic(`compared after each recovery: ${Object.keys(saved.files).length} files, ${Object.keys(saved.rows).length} tables`);

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
  const offsite = await runCli(['playbooks/backup.ts', '-i', REHEARSAL_INVENTORY, '--offsite'], env, 10 * 60_000);
  assert.equal(offsite.code, 0, `backup.ts --offsite:\n${offsite.stdout}\n${offsite.stderr}`);
  assert.doesNotMatch(offsite.stdout, /not off-site: /, offsite.stdout);
});

test('one node lost with its disk: disaster-recovery.ts --from latest rebuilds it from the copy on the NAS and keeps what the other nodes hold', async (t) => {
  assert.ok(saved, 'the backup test ran');
  const lost = lab(['reset', '--all', 'ai']);
  assert.equal(lost.code, 0, `lab.ts reset --all ai:\n${lost.stdout}\n${lost.stderr}`);
  assert.equal((await onNode(inv, 'ai', sh`! command -v docker && ! test -e /opt/sglang && test -z "$(ls -A /srv/backup)"`)).code, 0, 'ai is a fresh node with an empty backup disk');
  assert.equal((await onNode(inv, 'gateway', sh`test -f /etc/nginx/conf.d/vibe.conf && command -v docker`)).code, 0, 'the gateway was left alone');
  const again = rehearseAgain();
  assert.equal(again.code, 0, `lab.ts rehearse after losing ai:\n${again.stdout}\n${again.stderr}`);

  const started = Date.now();
  const recovery = await runCli(['playbooks/disaster-recovery.ts', '-i', REHEARSAL_INVENTORY, '--from', 'latest'], env, 20 * 60_000);
  assert.equal(recovery.code, 0, `disaster-recovery.ts:\n${recovery.stdout}\n${recovery.stderr}`);
  t.diagnostic(`one node lost: recovered in ${((Date.now() - started) / 1000).toFixed(0)} s\n${recovery.stdout.slice(recovery.stdout.lastIndexOf('recovery from set'))}`);
  const ai = originLines(recovery.stdout, 'ai.vibe.local');
  assert.ok(ai.length >= 2, recovery.stdout);
  for (const l of ai) assert.match(l, /from the copy on data\.vibe\.local$/, l);
  for (const other of ['gateway.vibe.local', 'data.vibe.local', 'cicd.vibe.local']) {
    const lines = originLines(recovery.stdout, other);
    assert.ok(lines.length > 0, `${other} in the report`);
    for (const l of lines) assert.match(l, /kept as it is/, l);
  }
  assert.match(recovery.stdout, /health: every service running and answering/, recovery.stdout);
  const after = await clusterData(inv, hosts, nodeOf, 'data');
  sameData(after, (k) => k.startsWith('ai '));
  assert.ok(Object.keys(saved.files).some((k) => k.startsWith('ai ai_ollama_data ')), "ai's Ollama volume was compared");
  assert.deepEqual(after.rows, saved.rows, 'the databases the NAS kept are as they were');
  // ai is the archive host: its archive went with its disk; the NAS kept its cluster (no aside needed).
  await archivingAgain(recovery.stdout);
});

test('every node lost, backup disks included: disaster-recovery.ts --from latest --from-offsite brings the whole rehearsal back from the remote', async (t) => {
  assert.ok(saved, 'the backup test ran');
  const reset = lab(['reset', '--all']);
  assert.equal(reset.code, 0, `lab.ts reset --all:\n${reset.stdout}\n${reset.stderr}`);
  for (const [node, root] of [['gateway', '/srv/backup'], ['data', '/volume1/backup']] as const) {
    assert.equal((await onNode(inv, node, sh`test -z "$(ls -A ${root} 2>/dev/null)"`)).code, 0, `${node}'s backup disk is empty`);
  }
  const again = rehearseAgain();
  assert.equal(again.code, 0, `lab.ts rehearse after a reset:\n${again.stdout}\n${again.stderr}`);
  assert.equal((await onNode(inv, 'gateway', sh`! test -e /etc/nginx && ! command -v docker`)).code, 0, 'the reset wiped the gateway (no /etc/nginx, no Docker)');

  const started = Date.now();
  const recovery = await runCli(['playbooks/disaster-recovery.ts', '-i', REHEARSAL_INVENTORY, '--from', 'latest', '--from-offsite'], env, 20 * 60_000);
  assert.equal(recovery.code, 0, `disaster-recovery.ts:\n${recovery.stdout}\n${recovery.stderr}`);
  t.diagnostic(`every node lost: recovered from the remote in ${((Date.now() - started) / 1000).toFixed(0)} s (goal: under 600 s)\n${recovery.stdout.slice(recovery.stdout.lastIndexOf('recovery from set'))}`);
  assert.match(recovery.stdout, /health: every service running and answering/, recovery.stdout);
  for (const host of hosts.keys()) {
    assert.match(recovery.stdout, new RegExp(`recovery from set .*\\d{8}_\\d{6} \\(${host.replace(/\./g, '\\.')}\\)`), `the report names ${host}'s set`);
    const lines = originLines(recovery.stdout, host);
    assert.ok(lines.length > 0, `${host}'s items in the report`);
    for (const l of lines) assert.match(l, /from the off-site remote$/, l);
  }

  const after = await clusterData(inv, hosts, nodeOf, 'data');
  sameData(after);
  assert.ok(Object.keys(saved.files).some(live), "Prometheus's data was in the set");
  assert.deepEqual(after.rows, saved.rows);
  // The databases came back from their dumps: a new cluster, archived afresh.
  await archivingAgain(recovery.stdout);

  const health = await runCli(['playbooks/health.ts', '-i', REHEARSAL_INVENTORY], env, 5 * 60_000);
  assert.equal(health.code, 0, `health.ts after the recovery:\n${health.stdout}\n${health.stderr}`);
});
