import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runCli } from '../helpers/cli.ts';
import { ensureLab, resetLab } from '../helpers/lab.ts';
import { convergedLabWithoutData, jsonEvents, labShell, PG, reportText, waitFor } from '../helpers/data-node.ts';
import { stateHash } from '../helpers/node.ts';

// The disaster-recovery issue's drill on the lab: converge, write known rows
// and files, back up (and copy off site), destroy the cluster with
// `scripts/lab.ts reset` (Docker, swarm, databases and volumes gone on every
// node; the backup disk and the off-site stand-in survive), recover.
let inv: string;
const NODES = ['gateway', 'ai', 'data', 'cicd'];
const ROOT = '/volume1/backup';
const OFFSITE = '/mnt/offsite/rigger';

const { node, data, psql } = labShell(() => inv);
const recover = (args: string[]) => runCli(['playbooks/disaster-recovery.ts', '--json', ...args], {}, 15 * 60_000);

const evs = jsonEvents;
const failures = (stdout: string) => evs(stdout).filter((e) => e.status === 'failed' || e.type === 'error').map((e) => `${e.task ?? ''} ${e.host ?? ''}: ${e.msg ?? ''}`).join('\n');

/** What the drill compares: each table's row count and a checksum of its rows, and the volume's files. */
async function dataState(): Promise<string> {
  const tables = await psql("SELECT string_agg(format('%s %s', table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) || '' '' || md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) AS c FROM %I t', table_name), false, true, '')))[1]), E'\\n' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'");
  const files = await data(`cd "$(docker volume inspect -f '{{.Mountpoint}}' lab_files_data)" && find . -type f -print0 | sort -z | xargs -0 sha256sum`);
  return `${tables}\n${files}`;
}


const allState = () => Promise.all(NODES.map((n) => stateHash(inv, n)));
let originals: string;
let latest: string;

before(async () => {
  inv = ensureLab();
  // Converged and holding no earlier suite's data: the lab the suite before left, when converged, with its data emptied.
  await convergedLabWithoutData(inv);
  await waitFor('lab_postgres', async () => (await node('data', `${PG} pg_isready -q -h 127.0.0.1`)).code === 0);
  await psql("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, at timestamptz DEFAULT now()); INSERT INTO notes (body) SELECT md5(i::text) FROM generate_series(1, 1000) i; CREATE TABLE tags (id int PRIMARY KEY, name text); INSERT INTO tags SELECT i, 'tag-' || i FROM generate_series(1, 37) i; CREATE TABLE empty_one (id int)");
  await data(`docker run --rm -v lab_files_data:/v --entrypoint sh $(docker inspect -f '{{.Config.Image}}' $(docker ps -q --filter label=com.docker.swarm.service.name=lab_files | head -n1)) -c 'mkdir -p /v/uploads/2026 && echo hello > /v/a.txt && head -c 20000 /dev/urandom > /v/uploads/2026/photo.bin'`);
  originals = await dataState();
  assert.match(originals, /^notes 1000 [0-9a-f]{32}$/m);
  const b = await runCli(['playbooks/backup.ts', '--json'], {}, 5 * 60_000);
  assert.equal(b.code, 0, failures(b.stdout));
  const o = await runCli(['playbooks/backup.ts', '--json', '--offsite'], {}, 5 * 60_000);
  assert.equal(o.code, 0, failures(o.stdout));
  latest = (await data(`ls ${ROOT} | grep -E '^[0-9]{8}_[0-9]{6}$' | tail -n1`)).trim();
});
// No reset after: every suite that needs fresh nodes resets them itself.

test('a healthy cluster that holds data is not overwritten without --force; nothing changes', async () => {
  const before = await allState();
  const r = await recover(['--from', 'latest']);
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stdout, /refusing to overwrite what the cluster holds: database vibedb \(3 tables, 1037 rows\), volume lab_files_data \(2 files\)\. Run with --force/);
  assert.deepEqual(await allState(), before, 'every node as it was');
  assert.equal(await dataState(), originals);
});

test('a set with a flipped byte, a truncated one, or a manifest of another set is refused before any node changes', async () => {
  // Copies of the good set under other names, each damaged once; their manifests are made to name them.
  const flipped = '20200101_010101';
  const truncated = '20200101_020202';
  const misnamed = '20200101_030303';
  await data(`for s in ${flipped} ${truncated}; do cp -a ${ROOT}/${latest} ${ROOT}/$s && sed -i "s/\\"set\\":\\"${latest}\\"/\\"set\\":\\"$s\\"/" ${ROOT}/$s/manifest.json; done
cp -a ${ROOT}/${latest} ${ROOT}/${misnamed}
f=${ROOT}/${flipped}/postgres-lab_postgres-vibedb.dump; b=$(dd if="$f" bs=1 skip=200 count=1 2>/dev/null | od -An -tu1 | tr -d ' '); printf "$(printf '\\\\%03o' $(( b ^ 255 )))" | dd of="$f" bs=1 seek=200 conv=notrunc 2>/dev/null
truncate -s -512 ${ROOT}/${truncated}/volume-lab_files_data.tar`);
  try {
    const before = await allState();
    const cases: [string, RegExp][] = [
      [flipped, new RegExp(`set ${flipped} did not verify; nothing was changed:\\n  postgres-lab_postgres-vibedb: sha256 [0-9a-f]{64} differs from the manifest's`)],
      [truncated, new RegExp(`set ${truncated} did not verify; nothing was changed:\\n  volume-lab_files_data: sha256 [0-9a-f]{64} differs from the manifest's`)],
      [misnamed, new RegExp(`set ${misnamed} is not a backup: manifest names set ${latest}`)],
    ];
    for (const [set, reason] of cases) {
      const r = await recover(['--from', set, '--force']);
      assert.equal(r.code, 2, r.stdout);
      assert.match(reportText(r.stdout), reason);
      assert.ok(!evs(r.stdout).some((e) => e.type === 'play-start' && e.play !== 'recovery: verify'), 'no play after the verification started');
    }
    assert.deepEqual(await allState(), before, 'every node as it was');
  } finally {
    await data(`rm -rf ${ROOT}/${flipped} ${ROOT}/${truncated} ${ROOT}/${misnamed}`);
  }
});

let drillSeconds = 0;

test('the drill: reset wipes the cluster, disaster-recovery.ts --from latest brings it back with the same data', async () => {
  resetLab();
  // --check first: the plan of every phase, and not one node touched.
  const before = await allState();
  const plan = await recover(['--from', 'latest', '--check']);
  assert.equal(plan.code, 0, failures(plan.stdout) + reportText(plan.stdout));
  assert.match(reportText(plan.stdout), /\(check mode: nothing changed\)/);
  for (const change of ['install docker.io', 'initialise a swarm', 'deploy lab: lab_postgres', "replace volume lab_files_data with", 'drop and restore database vibedb', 'deploy lab: lab_postgres, lab_files, lab_web']) {
    assert.ok(plan.stdout.includes(change), `the plan shows: ${change}`);
  }
  assert.deepEqual(await allState(), before, '--check changed nothing');

  const r = await recover(['--from', 'latest']);
  assert.equal(r.code, 0, failures(r.stdout) + reportText(r.stdout));
  const report = reportText(r.stdout);
  const total = /^total\s+([\d.]+)$/m.exec(report);
  assert.ok(total, report);
  drillSeconds = Number(total[1]);
  for (const phase of ['verify', 'docker', 'swarm', 'networks', 'database', 'restore', 'stacks', 'health']) assert.match(report, new RegExp(`^${phase}\\s+[\\d.]+$`, 'm'));
  assert.match(report, /vibedb: 3 tables, 1037 rows \(public\.empty_one 0, public\.notes 1000, public\.tags 37\)/);
  assert.match(report, /lab_files_data: 2 files/);
  assert.match(report, /health: every service running and answering/);
  assert.equal(await dataState(), originals, 'every table and file as it was backed up');
  const services = (await node('gateway', `docker service ls --format '{{.Name}} {{.Replicas}}' | sort`)).stdout;
  // The lab's stack, and the monitoring stack (the lab inventory turns it on) deployed by the recovery too.
  assert.match(services, /^lab_files 1\/1\nlab_postgres 1\/1\nlab_web 2\/2( \(max 1 per node\))?\nmonitoring_alertmanager 1\/1\nmonitoring_blackbox-exporter 1\/1\nmonitoring_node-exporter 4\/4\nmonitoring_postgres-exporter 1\/1\nmonitoring_prometheus 1\/1\n$/);
  const health = await runCli(['playbooks/health.ts'], {}, 5 * 60_000);
  assert.equal(health.code, 0, health.stdout);
  console.log(`drill: recovered in ${drillSeconds} s (the report's total)`);
});

test('a drill interrupted after the database restore, run again, ends with the same data', async () => {
  resetLab();
  const child = spawn('node', ['--import', 'tsx', 'playbooks/disaster-recovery.ts', '--json', '--from', 'latest'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  const killedAfterRestore = new Promise<boolean>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      // The next phase starting means the restore play finished.
      if (/"type":"play-start","play":"stacks"/.test(out) && child.exitCode === null) {
        child.kill('SIGKILL');
        resolve(true);
      }
    });
    child.on('exit', () => resolve(false));
  });
  assert.ok(await killedAfterRestore, `the run reached the stacks phase and was killed there:\n${failures(out)}`);
  assert.match(out, /"task":"databases restored","id":"[^"]+","host":"data","status":"changed"/);
  assert.match(await data(`cat ${ROOT}/.rigger/recovery.json`), /"restored":/);

  const again = await recover(['--from', 'latest']);
  assert.equal(again.code, 0, failures(again.stdout) + reportText(again.stdout));
  assert.match(again.stdout, /resuming the recovery of \d{8}_\d{6} started/);
  assert.match(again.stdout, /"task":"databases restored","id":"[^"]+","host":"data","status":"skipped","durationMs":\d+,"msg":"already restored in this recovery/);
  assert.equal(await dataState(), originals);
  assert.match(await data(`cat ${ROOT}/.rigger/recovery.json`), /"completed":/);
});

test('with the backup disk lost too, --from-offsite recovers from the off-site copy', async () => {
  resetLab(true);
  assert.equal((await data(`ls -A ${ROOT}`)).trim(), '', 'the backup disk is empty');
  const r = await recover(['--from', 'latest', '--from-offsite']);
  assert.equal(r.code, 0, failures(r.stdout) + reportText(r.stdout));
  assert.match(reportText(r.stdout), new RegExp(`recovery from set ${latest}`));
  assert.equal(await dataState(), originals);
  assert.match(await data(`ls ${ROOT}`), new RegExp(`^${latest}$`, 'm'), 'the verified copy is kept on the new backup disk');
  const health = await runCli(['playbooks/health.ts'], {}, 5 * 60_000);
  assert.equal(health.code, 0, health.stdout);
});
