import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { ensureLab, resetLab } from '../helpers/lab.ts';
import { labShell, waitFor } from '../helpers/data-node.ts';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { encryptValue } from '../../lib/shell/vault.ts';
import { vaultPassphraseFor } from '../../lib/inventory/load.ts';
import { pushWebVariants, type Variant } from '../helpers/web-variants.ts';

// The day-two issue's acceptance on the lab's own stack (stacks/lab.yml):
// lab_web (two replicas on workers, host-mode port 8080, failure_action
// rollback) and lab_files (default failure_action: pause), updated to
// releases of the lab's web app built here as stand-ins (good, bad-health,
// crash: test/helpers/web-variants.ts).
let inv: string;
let images: Record<Variant, string>;
/** The lab stack's images as the inventory names them (scripts/lab.ts wrote it). */
let ORIGINAL: string;
let POSTGRES: string;
const { node } = labShell(() => inv);

const gateway = async (script: string) => {
  const r = await node('gateway', script);
  if (r.code !== 0) throw new Error(`gateway: ${script}\n${r.stderr}`);
  return r.stdout.trim();
};
const imageOf = (svc: string) => gateway(`docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' ${svc}`);
const specOf = (svc: string) => gateway(`docker service inspect --format '{{json .Spec}}' ${svc}`);
/** The image every running task of a service was started from, one per replica. */
const runningImages = async (svc: string) => (await gateway(`docker service ps ${svc} --no-trunc --filter desired-state=running --format '{{.CurrentState}} {{.Image}}'`)).split('\n').filter((l) => l.startsWith('Running')).map((l) => l.split(' ').at(-1)!);

/** Runs a playbook and prints how long it took (the suite's time goes to rollouts; this says which). */
async function timed(args: string[], timeoutMs: number): Promise<CliResult> {
  const t0 = performance.now();
  const r = await runCli(args, {}, timeoutMs);
  console.log(`day-two: ${args.filter((a) => !a.startsWith('{')).join(' ')} -> exit ${r.code} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}
const FAST = ['-e', 'deploy_health_retries=3', '-e', 'deploy_health_delay_seconds=2', '-e', 'deploy_timeout_seconds=120'];
const deploy = (args: string[]) => timed(['playbooks/deploy.ts', ...FAST, ...args], 5 * 60_000);
const site = (args: string[] = []) => timed(['playbooks/site.ts', ...args], 15 * 60_000);
const healthy = async () => (await timed(['playbooks/health.ts', '-e', 'health_retries=10'], 2 * 60_000)).code === 0;
const out = (r: CliResult) => `${r.stdout}\n${r.stderr}`;
/** site.ts with the lab stack's images replaced (-e overrides the inventory's stacks list). */
const stacksWith = (webImage: string) => ['-e', JSON.stringify({ stacks: [{ name: 'lab', file: 'stacks/lab.yml', env: { WEB_IMAGE: webImage, POSTGRES_IMAGE: POSTGRES } }] })];

before(async () => {
  inv = ensureLab();
  const text = readFileSync(inv, 'utf8');
  ORIGINAL = /WEB_IMAGE: (\S+)/.exec(text)![1]!;
  POSTGRES = /POSTGRES_IMAGE: (\S+)/.exec(text)![1]!;
  images = await pushWebVariants();
  // A converged lab running the stack's own images is reused; nodes left in any other state are reset first.
  if ((await site()).code !== 0 || (await imageOf('lab_web').catch(() => '')) !== ORIGINAL) {
    resetLab();
    const r = await site();
    assert.equal(r.code, 0, `site.ts converges the lab:\n${r.stdout.split('\n').filter((l) => /failed|error/i.test(l)).join('\n')}`);
  }
  assert.equal(await imageOf('lab_web'), ORIGINAL);
});
// No reset after: the next suite checks the lab's state itself (this one re-pointed services and drained a
// node, and put them back); every suite that needs fresh nodes resets them itself.

test('an update to an image whose health check fails is rolled back: deploy fails naming the check, the old image runs healthy, nothing else changed', async () => {
  const others = [await specOf('lab_postgres'), await specOf('lab_files')];
  // Another deploy holds the lock: this one stops before changing anything.
  await gateway(`mkdir -p /var/lib/rigger/deploys/lock && echo 'alice deploy 2026-01-01T00:00:00Z' > /var/lib/rigger/deploys/lock/owner`);
  const locked = await deploy(['lab_web', '--image', images['bad-health']]);
  await gateway('rm -r /var/lib/rigger/deploys/lock');
  assert.notEqual(locked.code, 0, out(locked));
  assert.match(out(locked), /another deploy holds the lock \/var\/lib\/rigger\/deploys\/lock \(alice deploy 2026-01-01T00:00:00Z\)/);
  assert.equal(await imageOf('lab_web'), ORIGINAL);

  const r = await deploy(['lab_web', '--image', images['bad-health']]);
  assert.notEqual(r.code, 0, out(r));
  assert.match(out(r), /health check failed after 4 attempts: lab_web: .*:8080\/health answered 500/);
  assert.match(out(r), /stop-first: it publishes port 8080 in host mode/, 'the order and its reason are printed');
  assert.match(out(r), /rolled back lab_web: the previous version is healthy again/);
  assert.equal(await imageOf('lab_web'), ORIGINAL);
  assert.ok(await healthy(), 'health.ts passes after the rollback');
  assert.deepEqual([await specOf('lab_postgres'), await specOf('lab_files')], others, 'no other service changed');
});

test('an update to a good image: --check --diff changes nothing; the run pins the digest on every replica, health is green, --history lists it, a second run changes nothing', async () => {
  const check = await deploy(['lab_web', '--image', images.good, '--check', '--diff']);
  assert.equal(check.code, 0, out(check));
  assert.match(check.stdout, /lab_web: image .*lab\/web:[0-9a-f]+ -> .*lab\/web:good@sha256:[0-9a-f]{12}/);
  assert.equal(await imageOf('lab_web'), ORIGINAL, 'check mode touched nothing');

  const r = await deploy(['lab_web', '--image', images.good]);
  assert.equal(r.code, 0, out(r));
  const pinned = await imageOf('lab_web');
  assert.match(pinned, new RegExp(`^${images.good.replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`));
  assert.deepEqual(await runningImages('lab_web'), [pinned, pinned], 'both replicas run the pinned digest');
  assert.ok(await healthy());

  const history = await deploy(['--history']);
  assert.equal(history.code, 0, out(history));
  assert.match(history.stdout, /deploy +ok +lab_web .*lab\/web:good@sha256:[0-9a-f]{12}\b/);
  assert.match(history.stdout, /deploy +rolled back +lab_web .*bad-health/, 'the failed run of the test before is logged too');
  assert.match(history.stdout, new RegExp(`Z +${process.env.SUDO_USER ?? userInfo().username} +deploy +ok`), 'who deployed, and when');

  const again = await deploy(['lab_web', '--image', images.good]);
  assert.equal(again.code, 0, out(again));
  assert.doesNotMatch(again.stdout, /changed=[1-9]/);
  assert.match(again.stdout, /lab_web already on .*lab\/web:good/);
});

test('rollback.ts returns to the image before the last good deploy, health-gated', async () => {
  const r = await runCli(['playbooks/rollback.ts', ...FAST, 'lab_web'], {}, 5 * 60_000);
  assert.equal(r.code, 0, out(r));
  assert.ok((await imageOf('lab_web')).startsWith(`${ORIGINAL}@sha256:`), 'the image from before, its tag pinned now');
  assert.ok(await healthy());
  const back = await deploy(['lab_web', '--image', images.good]);
  assert.equal(back.code, 0, out(back));
});

test('a run that changes two services where the second fails its health gate puts both back on their previous specs', async () => {
  const before = { web: await imageOf('lab_web'), files: await imageOf('lab_files') };
  const r = await deploy([`lab_files=${images.good}`, `lab_web=${images['bad-health']}`]);
  assert.notEqual(r.code, 0, out(r));
  assert.match(out(r), /rolled back lab_files, lab_web/);
  assert.deepEqual({ web: await imageOf('lab_web'), files: await imageOf('lab_files') }, before);
});

test('a paused update and a Swarm-completed rollback are failures for deploy.ts and site.ts', async () => {
  const paused = await deploy(['lab_files', '--image', images.crash]);
  assert.notEqual(paused.code, 0, out(paused));
  assert.match(out(paused), /update failed: lab_files/);
  assert.match(out(paused), /crash variant: refusing to start/, "the failing task's log lines are printed");

  const rolled = await deploy(['lab_web', '--image', images.crash]);
  assert.notEqual(rolled.code, 0, out(rolled));
  assert.match(out(rolled), /update failed: lab_web\n.*update rollback_(started|completed)/);

  // One site run puts the crash image on both: lab_files pauses, Swarm rolls lab_web back by itself.
  const webBefore = await imageOf('lab_web');
  const s = await site(stacksWith(images.crash));
  assert.notEqual(s.code, 0, out(s));
  assert.match(out(s), /stack lab did not converge:\n.*update failed: lab_(web|files)/);
  assert.match(out(s), /rolled back lab_files, lab_web to their previous specs/);
  assert.deepEqual([await imageOf('lab_files'), await imageOf('lab_web')], [ORIGINAL, webBefore], 'the whole run went back');

  const restored = await site();
  assert.equal(restored.code, 0, out(restored));
  assert.equal(await imageOf('lab_web'), ORIGINAL);
});

test('rotating the lab database password: a new version, its service restarted and healthy, the old version gone, no failed request to lab_web meanwhile', async () => {
  const nodes = (await gateway(`for n in $(docker service ps lab_web --filter desired-state=running --format '{{.Node}}'); do docker node inspect --format '{{.Status.Addr}}' $n; done`)).split('\n');
  assert.equal(nodes.length, 2);
  // A client on the manager polls both web replicas every 0.2 s until told to stop, 3 minutes at most.
  await gateway(`rm -f /tmp/poll.stop /tmp/poll.log; nohup sh -c 'i=0; while [ ! -e /tmp/poll.stop ] && [ $i -lt 900 ]; do for a in ${nodes.join(' ')}; do curl -s -o /dev/null -m 2 -w "%{http_code}\\n" http://$a:8080/ >> /tmp/poll.log; done; i=$((i+1)); sleep 0.2; done' >/dev/null 2>&1 &`);
  const started = await gateway(`docker service ps lab_postgres --filter desired-state=running -q`);
  const dir = mkdtempSync(path.join(tmpdir(), 'day-two-'));
  const vars = path.join(dir, 'rotate.yml');
  writeFileSync(vars, `stack_secrets:\n  lab_postgres_password: !vault ${encryptValue('rotated-password-2', vaultPassphraseFor([inv])())}\n`);

  const plan = await runCli(['playbooks/role.ts', 'stacks', '--check', '-e', `@${vars}`], {}, 5 * 60_000);
  assert.equal(plan.code, 0, out(plan));
  // The monitoring stack's PostgreSQL exporter reads the same secret (the lab's monitoring_postgres): it follows the rotation.
  assert.match(plan.stdout, /rotate secret lab_postgres_password: new version lab_postgres_password_v2; restarts lab_postgres, monitoring_postgres-exporter \(health-gated\)/);
  assert.match(await gateway(`docker secret ls --format '{{.Name}}'`), /^lab_postgres_password$/m, 'check mode created nothing');

  const r = await runCli(['playbooks/role.ts', 'stacks', '-e', `@${vars}`], {}, 5 * 60_000);
  await gateway('touch /tmp/poll.stop');
  assert.equal(r.code, 0, out(r));
  const secrets = (await gateway(`docker secret ls --format '{{.Name}}' | grep lab_postgres_password`)).split('\n');
  assert.deepEqual(secrets, ['lab_postgres_password_v2'], 'the new version, and the old one removed');
  assert.equal(await gateway(`docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}}->{{.File.Name}}{{end}}' lab_postgres`), 'lab_postgres_password_v2->lab_postgres_password');
  assert.equal(await gateway(`docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}}->{{.File.Name}}{{end}}' monitoring_postgres-exporter`), 'lab_postgres_password_v2->postgres_exporter_password');
  assert.notEqual(await gateway(`docker service ps lab_postgres --filter desired-state=running -q`), started, 'lab_postgres restarted');
  assert.ok(await healthy());
  const codes = (await gateway('sleep 0.5; cat /tmp/poll.log')).split('\n');
  assert.ok(codes.length >= 10, `the client polled throughout (${codes.length} requests)`);
  assert.deepEqual([...new Set(codes)], ['200'], `every request answered 200: ${codes.filter((c) => c !== '200').length} did not`);

  const again = await runCli(['playbooks/role.ts', 'stacks', '-e', `@${vars}`], {}, 5 * 60_000);
  assert.equal(again.code, 0, out(again));
  assert.match(again.stdout, /changed=0/, 'the stack keeps the rotated version');
  // The stacks play runs on every swarm node now (each pulls its images first): no host's recap line may show a change.
  assert.doesNotMatch(again.stdout, /changed=[1-9]/, 'no node changed (its images are present)');
  const monitoring = await runCli(['playbooks/role.ts', 'monitoring'], {}, 5 * 60_000);
  assert.equal(monitoring.code, 0, out(monitoring));
  assert.match(monitoring.stdout, /changed=0/, 'the monitoring stack keeps the rotated version too');
});

test('drain.ts moves the lab web replicas off a worker; --undo makes it active again', async () => {
  const nodeOf = async () => (await gateway(`docker service ps lab_web --filter desired-state=running --format '{{.Node}}'`)).split('\n').sort();
  const [worker] = await nodeOf();
  assert.ok(worker);
  try {
    const r = await runCli(['playbooks/drain.ts', worker], {}, 5 * 60_000);
    assert.equal(r.code, 0, out(r));
    const now = await nodeOf();
    assert.equal(now.length, 2, 'both replicas run');
    assert.ok(!now.includes(worker), `no replica on ${worker}: ${now.join(', ')}`);
    assert.equal(await gateway(`docker node inspect --format '{{.Spec.Availability}}' ${worker}`), 'drain');
    const undo = await runCli(['playbooks/drain.ts', worker, '--undo'], {}, 60_000);
    assert.equal(undo.code, 0, out(undo));
    assert.equal(await gateway(`docker node inspect --format '{{.Spec.Availability}}' ${worker}`), 'active');
  } finally {
    await gateway(`docker node update --availability active ${worker} >/dev/null`);
  }
});

test('daily-check.ts passes on the healthy lab; a full disk, a service scaled to 0 and a day-old backup make it exit 2 naming each', async () => {
  const backup = await runCli(['playbooks/backup.ts'], {}, 5 * 60_000);
  assert.equal(backup.code, 0, out(backup));
  const good = await runCli(['playbooks/daily-check.ts'], {}, 2 * 60_000);
  assert.equal(good.code, 0, out(good));
  assert.match(good.stdout, /PASS +backup +data +newest verified set \d{8}_\d{6}, 0\.\d h old/);
  assert.match(good.stdout, /(PASS|WARN) +service +lab_web +2\/2 replicas/, 'earlier tests failed tasks on purpose: restarts warn');

  // A small file system on the data node filled to 90 %, lab_files scaled to 0, the newest set's time 30 h back.
  await node('data', 'mkdir -p /mnt/daily-fill && mount -t tmpfs -o size=10m tmpfs /mnt/daily-fill && head -c 9437184 /dev/zero > /mnt/daily-fill/fill');
  await gateway('docker service scale -d lab_files=0 >/dev/null');
  const root = '/volume1/backup';
  const old = new Date(Date.now() - 30 * 3600_000).toISOString();
  await node('data', `set=$(ls -d ${root}/[0-9]*_[0-9]* | sort | tail -n1) && sed -i 's/"created":"[^"]*"/"created":"${old}"/' $set/manifest.json`);
  try {
    const bad = await runCli(['playbooks/daily-check.ts'], {}, 2 * 60_000);
    assert.equal(bad.code, 2, out(bad));
    assert.match(bad.stdout, /FAIL +disk +data:\/mnt\/daily-fill +9\d% used/);
    assert.match(bad.stdout, /FAIL +service +lab_files +scaled to 0/);
    assert.match(bad.stdout, /FAIL +backup +data +newest verified set .*, 30\.\d h old/);
    // deploy's pre-check reads the same mounts: the data node runs lab_postgres, and its full mount stops a deploy there.
    const precheck = await deploy(['lab_postgres', '--image', POSTGRES, '--check']);
    assert.equal(precheck.code, 2, out(precheck));
    assert.match(out(precheck), /\[data\] room on the nodes that run it .*disk \/mnt\/daily-fill 9\d% used \(limit 85%\)/);
    const asJson = await runCli(['playbooks/daily-check.ts', '--json'], {}, 2 * 60_000);
    assert.equal(asJson.code, 2);
    const report = asJson.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; text?: string }).find((e) => e.type === 'report')!;
    const failed = (JSON.parse(report.text!) as { level: string; subject: string }[]).filter((f) => f.level === 'fail').map((f) => f.subject).sort();
    assert.deepEqual(failed, ['data', 'data:/mnt/daily-fill', 'lab_files']);
  } finally {
    await node('data', 'umount /mnt/daily-fill; rmdir /mnt/daily-fill');
    await gateway('docker service scale -d lab_files=1 >/dev/null');
  }
});

test('the deploy lock covers stack runs: a second deploy during a stack deploy is refused naming the holder; the run log lists stack runs; a lock whose holder died is taken over', async () => {
  // A stack run (deploy.ts --stack) that updates lab_web and lab_files, holding the lock while they roll out.
  const stackRun = timed(['playbooks/deploy.ts', '--stack', 'lab', ...stacksWith(images.good)], 10 * 60_000);
  await waitFor('the stack run to take the lock', async () => (await node('gateway', 'cat /var/lib/rigger/deploys/lock/owner')).stdout.includes('"action":"stack lab"'), 120_000);
  const second = await deploy(['lab_web', '--image', images['bad-health']]);
  const first = await stackRun;
  assert.notEqual(second.code, 0, out(second));
  assert.match(out(second), new RegExp(`another deploy holds the lock /var/lib/rigger/deploys/lock \\(${process.env.SUDO_USER ?? userInfo().username} stack lab since \\S+, pid \\d+ on ${hostname()}\\)`));
  assert.equal(first.code, 0, out(first));
  assert.ok((await imageOf('lab_web')).startsWith(images.good), 'the stack run went through');

  // A dead holder: a run of this controller's that took the lock and was killed (SIGKILL, no release).
  const holder = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/hold-deploy-lock.ts', 'lab', inv, 'gateway'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (c: Buffer) => c.toString().includes('held') && resolve());
    holder.on('exit', (code) => reject(new Error(`the holder exited ${code} before holding the lock`)));
  });
  const dead = holder.pid!;
  const gone = new Promise((r) => holder.once('exit', r));
  holder.kill('SIGKILL');
  await gone;
  const restored = await site();
  assert.equal(restored.code, 0, out(restored));
  assert.equal(await imageOf('lab_web'), ORIGINAL);
  assert.equal(await gateway('ls /var/lib/rigger/deploys'), 'history.jsonl', 'the lock is released');

  const history = await deploy(['--history']);
  assert.match(history.stdout, /stack lab +ok +lab_files .*lab\/web:good.*lab_web .*lab\/web:good/, 'the stack run, with each service it changed');
  assert.match(history.stdout, new RegExp(`stack lab +ok +.*took over a stale deploy lock \\(holder hold the lock since \\S+, pid ${dead} on ${hostname()}\\): its process ${dead} on ${hostname()} is gone`));
});
