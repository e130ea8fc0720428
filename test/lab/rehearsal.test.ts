import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { raw, sh } from '../../lib/shell/command.ts';
import { HOMELAB_VAULT_PASSWORD, REHEARSAL_INVENTORY, rehearsedServices, STANDIN_GPU_UUID } from '../../scripts/lab/rehearsal.ts';
import { runCli } from '../helpers/cli.ts';
import { ensureLab, lab, resetLab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/data-node.ts';
import { DSM_PAGE_TITLE } from '../../scripts/lab/dsm-standin.ts';

// The real cluster rehearsed on the lab (issue 16): inventory/homelab.yml and
// the four real stack files on the lab's four nodes, every image replaced by
// its stand-in (scripts/lab/standins.ts; PostgreSQL is real), everything else
// (placement, networks, secrets, volumes, resources, the GPU reservation,
// the databases, the health checks) as the real cluster has it. The monitoring
// role's stack too, with homelab.yml's settings: Prometheus, Alertmanager and
// the exporters built on the lab from Debian's packages; Grafana, Loki,
// Promtail, cAdvisor and DCGM as stand-ins (not in Debian's archive). The data
// node is made to look like the real one, a Synology on DSM 7.2 (a stand-in:
// DSM's version file, Container Manager's Docker, no apt or dpkg).
let inv: string;
const { services } = rehearsedServices();
const env = { RIGGER_VAULT_PASSWORD: HOMELAB_VAULT_PASSWORD };

before(() => {
  inv = ensureLab();
  resetLab();
  const r = lab(['rehearse']);
  assert.equal(r.code, 0, `lab.ts rehearse:\n${r.stdout}\n${r.stderr}`);
});
// No reset after: the rehearsal-* suites after this one (scripts/test-lab.ts) reuse the converged
// rehearsal; rehearsal-recovery loses the nodes and hands the recovered rehearsal to the ones after it.

const site = () => runCli(['playbooks/site.ts', '-i', REHEARSAL_INVENTORY, '--json'], env, 15 * 60_000);

function recapOf(stdout: string) {
  const recap = JSON.parse(stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1)!) as { type: string; hosts: Record<string, { changed: number; failed: number; unreachable: number }> };
  assert.equal(recap.type, 'recap');
  return recap.hosts;
}

const notable = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => /"status":"(failed|changed|unreachable)"/.test(l) || l.includes('"type":"error"'))
    .join('\n');

const gateway = async (script: string) => (await onNode(inv, 'gateway', sh`${raw(script)}`)).stdout;

test('site.ts converges the real cluster on the lab: every service on its node, health green, databases made; a second run changes nothing', async () => {
  // `lab.ts rehearse` (in before()) made all the rehearsal needs: no step of the test's own.
  // Acceptance 4 first, on the rehearsed nodes: a port a stack publishes, already taken on the node its
  // placement names (SGLang's 8000 on the ai node, by a planted listener), is refused by preflight naming
  // node, port and holder, before anything changes.
  await onNode(inv, 'ai', sh`setsid nohup python3 -m http.server 8000 >/dev/null 2>&1 < /dev/null & for i in $(seq 50); do ss -Hltn 'sport = :8000' | grep -q . && exit 0; sleep 0.1; done; exit 1`);
  try {
    const taken = await runCli(['playbooks/preflight.ts', '-i', REHEARSAL_INVENTORY, '--limit', 'ai.vibe.local'], env, 5 * 60_000);
    assert.equal(taken.code, 2, taken.stdout);
    assert.match(taken.stdout, /ai\.vibe\.local: 8000\/tcp, published by ai_sglang \(host mode: its placement\), is held by python3 \(pid \d+\)/, taken.stdout);
  } finally {
    await onNode(inv, 'ai', sh`pkill -f 'http.server 8000'; true`);
  }
  const dsmWeb = async () => {
    const r = await onNode(inv, 'data', sh`for u in http://127.0.0.1:80/ http://127.0.0.1:5000/ https://127.0.0.1:443/ https://127.0.0.1:5001/; do printf '%s ' "$u"; curl -ksS -m 5 "$u" | grep -c ${DSM_PAGE_TITLE}; done`);
    return r.stdout.trim().split('\n');
  };
  assert.deepEqual(await dsmWeb(), ['http://127.0.0.1:80/ 1', 'http://127.0.0.1:5000/ 1', 'https://127.0.0.1:443/ 1', 'https://127.0.0.1:5001/ 1'], "the DSM stand-in's web server");

  const first = await site();
  assert.equal(first.code, 0, `first run:\n${notable(first.stdout)}\n${first.stderr}`);
  for (const [host, r] of Object.entries(recapOf(first.stdout))) assert.equal(r.failed + r.unreachable, 0, host);

  // On the DSM stand-in the apt steps are skipped with their reason (and ran on the other nodes).
  const events = first.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; host: string; task: string; status: string; msg?: string });
  for (const name of ['base packages', 'Docker packages', 'daemon.json', 'firewall', 'NFS server package', 'export']) {
    const e = events.find((x) => x.type === 'task-host' && x.host === 'data.vibe.local' && x.task === name);
    assert.equal(e?.status, 'skipped', `${name} on the DSM node: ${JSON.stringify(e)}`);
    assert.match(e!.msg ?? '', /^DSM 7\.2\.1 \(Synology\): /, name);
  }
  assert.equal(events.find((x) => x.type === 'task-host' && x.host === 'cicd.vibe.local' && x.task === 'Docker packages')?.status, 'changed');

  // Every service at its replica count, each task on the node its constraints name.
  const placed = await gateway(`for s in ${services.map((s) => s.service).join(' ')}; do
  echo "$s $(docker service ls --format '{{.Name}} {{.Replicas}}' | awk -v s=$s '$1 == s { print $2 }') $(docker service ps $s --filter desired-state=running --format '{{.Node}}/{{.CurrentState}}' | sort | tr '\\n' ' ')"
done`);
  for (const s of services) {
    const line = placed.split('\n').find((l) => l.startsWith(`${s.service} `)) ?? '';
    assert.match(line, new RegExp(`^${s.service} ${s.replicas}/${s.replicas} `), `${s.service} runs ${s.replicas} replicas:\n${line}`);
    const nodes = [...line.matchAll(/(\S+)\/Running/g)].map((m) => m[1]).sort();
    assert.deepEqual(nodes, [...s.nodes].sort(), `${s.service} runs on ${s.nodes.join(', ')}:\n${line}`);
  }

  // SGLang got the ai node's GPU through its generic-resource reservation.
  assert.match(await gateway(`docker node inspect ai --format '{{json .Description.Resources.GenericResources}}'`), new RegExp(`NVIDIA-GPU.*${STANDIN_GPU_UUID}`));
  const sglangEnv = (await onNode(inv, 'ai', sh`docker inspect --format '{{json .Config.Env}}' $(docker ps -q --filter label=com.docker.swarm.service.name=ai_sglang)`)).stdout;
  assert.ok(sglangEnv.includes(`=${STANDIN_GPU_UUID}`), `Swarm assigned the GPU to the SGLang task: ${sglangEnv}`);

  // Each stand-in answers every health path from inside its own task (503 while its database refuses it).
  for (const s of services.filter((x) => x.http.length > 0)) {
    const urls = s.http.map((h) => `http://127.0.0.1:${h.port}${h.path}`);
    for (const node of s.nodes) {
      const r = await onNode(
        inv,
        node,
        sh`docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=${s.service} | head -n1) python3 -c ${'import sys, urllib.request\nfor u in sys.argv[1:]: print(u, urllib.request.urlopen(u, timeout=5).status)'} ${urls}`,
      );
      assert.equal(r.code, 0, `${s.service} on ${node}: ${r.stderr}`);
      for (const u of urls) assert.ok(r.stdout.includes(`${u} 200`), `${s.service} on ${node} answers ${u}: ${r.stdout}`);
    }
  }

  // The operators' databases, owned by their roles, and each application connected with its own password.
  const pg = (sql: string) => onNode(inv, 'data', sh`docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=gateway_postgres) psql -U vibe -d postgres -AtX -c ${sql}`);
  const dbs = (await pg("SELECT datname || '/' || pg_get_userbyid(datdba) FROM pg_database WHERE datname IN ('vibedb', 'giteadb', 'redminedb', 'n8n', 'langgraph') ORDER BY 1")).stdout.trim().split('\n');
  assert.deepEqual(dbs, ['giteadb/gitea', 'langgraph/langgraph', 'n8n/n8n', 'redminedb/redmine', 'vibedb/vibe']);
  const sessions = (await pg("SELECT DISTINCT application_name || ' ' || usename || '@' || datname FROM pg_stat_activity WHERE application_name LIKE 'standin-%' ORDER BY 1")).stdout.trim().split('\n');
  assert.deepEqual(sessions, ['standin-gitea gitea@giteadb', 'standin-langgraph langgraph@langgraph', 'standin-n8n n8n@n8n', 'standin-redmine redmine@redminedb']);

  // The monitoring stack with the real cluster's settings: Prometheus (Debian's, built on the lab) scrapes
  // every node's exporter and the PostgreSQL exporter, which reads the operators' database with its password.
  type Target = { labels: Record<string, string>; health: string; lastError: string };
  const targets = async () => (JSON.parse(await gateway(`curl -fsS -m 5 http://127.0.0.1:9090/api/v1/targets`)) as { data: { activeTargets: Target[] } }).data.activeTargets;
  const upIn = (t: Target[], job: string) => t.filter((x) => x.labels.job === job && x.health === 'up').length;
  await waitFor('every exporter up', async () => {
    const t = await targets().catch(() => []);
    return upIn(t, 'node') === 4 && upIn(t, 'postgres') === 1;
  }).catch(async (err: Error) => {
    throw new Error(`${err.message}:\n${(await targets().catch(() => [])).map((x) => `${x.labels.job} ${x.labels.instance} ${x.health} ${x.lastError}`).join('\n')}`);
  });

  const health = await runCli(['playbooks/health.ts', '-i', REHEARSAL_INVENTORY], env, 5 * 60_000);
  assert.equal(health.code, 0, `health.ts:\n${health.stdout}\n${health.stderr}`);
  for (const s of ['ai_sglang', 'ai_ollama', 'data_gitea', 'data_redmine', 'monitoring_grafana']) assert.match(health.stdout, new RegExp(`ok\\s+${s}\\s`), `health.ts checks ${s}`);
  // The blackbox exporter reaches the same five at their containers' ports (Grafana's published 3001 is 3000 inside):
  // a probe of the published port would keep ServiceDown firing on the real cluster.
  type Probe = { metric: { instance: string }; value: [number, string] };
  const probes = async () => (JSON.parse(await gateway(`curl -fsS -m 5 'http://127.0.0.1:9090/api/v1/query?query=probe_success%7Bjob%3D%22services%22%7D'`)) as { data: { result: Probe[] } }).data.result;
  await waitFor('every health check probed successfully by the blackbox exporter', async () => {
    const r = await probes().catch(() => []);
    return r.length === 5 && r.every((x) => x.value[1] === '1');
  }).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${(await probes().catch(() => [])).map((x) => `${x.metric.instance}=${x.value[1]}`).join(' ')}`);
  });

  // Preflight reports what must be set in DSM by hand: here the share and its permission are, the NFS service is not (no NFS in this kernel).
  const preflight = await runCli(['playbooks/preflight.ts', '-i', REHEARSAL_INVENTORY, '--limit', 'data.vibe.local'], env, 5 * 60_000);
  assert.match(preflight.stdout, /FAIL DSM 7\.2\.1: set in DSM: NFS service \(Control Panel > File Services > NFS\)/, preflight.stdout);
  assert.doesNotMatch(preflight.stdout, /Container Manager \(Package Center\)|shared folder \/volume1|NFS permission on/, preflight.stdout);
  assert.equal(preflight.code, 2, 'a DSM-side setting missing fails preflight');

  // DSM's sshd (issue 29 item 15): the hardening is in its main file, which includes no drop-in, and its unit is sshd.
  const sshd = await onNode(inv, 'data', sh`sshd -T -C user=root,host=h,addr=127.0.0.1 | grep -E '^(passwordauthentication|allowusers) '; grep -c '^PasswordAuthentication no$' /etc/ssh/sshd_config; ls /etc/ssh/sshd_config.d 2>&1; systemctl is-active sshd ssh`);
  assert.match(sshd.stdout, /^passwordauthentication no$/m, sshd.stdout);
  assert.match(sshd.stdout, /^allowusers root$/m, sshd.stdout);
  assert.match(sshd.stdout, /^1$/m, 'the setting written once, in the main file');
  assert.match(sshd.stdout, /No such file or directory\nactive\ninactive\n?$/, sshd.stdout);
  // DSM sets sshd's port in its Control Panel: another sshd_port is refused before the node changes (the run's
  // only tasks there are the two read-only checks; the node's services keep writing, so no whole-node hash), and
  // preflight names the setting.
  const sshFiles = () => onNode(inv, 'data', sh`find /etc/ssh -type f -exec sha256sum {} + | sort`).then((r) => r.stdout);
  const sshBefore = await sshFiles();
  const port = ['-e', 'sshd_port=2222', '--limit', 'data.vibe.local'];
  const moved = await runCli(['playbooks/site.ts', '-i', REHEARSAL_INVENTORY, ...port, '--json'], env, 5 * 60_000);
  assert.equal(moved.code, 2, moved.stdout);
  const ran = moved.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; host?: string; task?: string; status?: string; msg?: string }).filter((e) => e.type === 'task-host' && e.host === 'data.vibe.local');
  assert.deepEqual(ran.map((e) => `${e.task}: ${e.status}`), ['kernel carries the swarm settings: ok', 'sshd port on DSM: failed'], JSON.stringify(ran));
  assert.match(ran[1]!.msg ?? '', /set 2222 in Control Panel > Terminal & SNMP > Terminal \(Port\)/);
  assert.equal(await sshFiles(), sshBefore, "the refused run left DSM's sshd files as they were");
  const portCheck = await runCli(['playbooks/preflight.ts', '-i', REHEARSAL_INVENTORY, ...port], env, 5 * 60_000);
  assert.match(portCheck.stdout, /FAIL DSM 7\.2\.1: set in DSM: .*SSH port 2222 \(Control Panel > Terminal & SNMP > Terminal\)/, portCheck.stdout);

  // Acceptance 3: DSM's own web server still answers on its four ports after the run (no stack took them).
  assert.deepEqual(await dsmWeb(), ['http://127.0.0.1:80/ 1', 'http://127.0.0.1:5000/ 1', 'https://127.0.0.1:443/ 1', 'https://127.0.0.1:5001/ 1'], "DSM's web server after site.ts");
  // Item 5: the NAS's Docker root is on its data volume, as Container Manager keeps it, and no container
  // log is under /var/lib/docker there (dockerd itself makes only /var/lib/docker/network/files, its load
  // balancers' resolv.conf, whatever its root); Promtail on the NAS still finds its containers' logs.
  const root = await onNode(inv, 'data', sh`docker info --format '{{.DockerRootDir}}'; mountpoint -q /volume1 && echo mount; test -e /var/lib/docker/containers || echo no-var-lib-docker-containers`);
  assert.deepEqual(root.stdout.trim().split('\n'), ['/volume1/@docker', 'mount', 'no-var-lib-docker-containers']);
  const tailed = await onNode(inv, 'data', sh`docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=monitoring_promtail) curl -fsS -m 5 http://127.0.0.1:9080/metrics`);
  assert.match(tailed.stdout, /promtail_file_bytes_total\{path="\/host\/volume1\/@docker\/containers\/[0-9a-f]{64}\/[0-9a-f]{64}-json\.log"\}/, `Promtail on the NAS tails its containers' logs:\n${tailed.stdout}`);

  const second = await site();
  assert.equal(second.code, 0, `second run:\n${notable(second.stdout)}\n${second.stderr}`);
  for (const [host, r] of Object.entries(recapOf(second.stdout))) assert.equal(r.changed, 0, `${host} changed nothing on the second run:\n${notable(second.stdout)}`);
});
