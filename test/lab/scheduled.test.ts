import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { ensureLab, resetLab } from '../helpers/lab.ts';
import { jsonEvents, labShell, PG, reportText, startHookReceiver, waitFor } from '../helpers/data-node.ts';

// The scheduled runner on the lab (issue 16 acceptance 4, issue 17 item 6):
// backup.ts and daily-check.ts --install-schedule put their bundled playbook,
// the inventory, Node (Debian's package) and root-only secret files on the
// data node (backup_scheduler); the test starts the installed services with
// systemctl, as their timers would, never with its own runner. The webhook's
// receiver listens on the data node's loopback, where the jobs run.
let inv: string;
const { node, data } = labShell(() => inv);
const HOOK_LOG = '/tmp/scheduled-hook.log';
const HOOK = ['-e', 'backup_webhook=http://127.0.0.1:9098/hook'];

async function timed(args: string[], timeoutMs = 10 * 60_000): Promise<CliResult> {
  const t0 = performance.now();
  const r = await runCli(args, {}, timeoutMs);
  console.log(`scheduled: ${args.join(' ')} -> exit ${r.code} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}
const out = (r: CliResult) => `${r.stdout}\n${r.stderr}`;
const changed = (r: CliResult) => Object.values(jsonEvents(r.stdout).at(-1)!.hosts!).reduce((n, h) => n + h.changed, 0);
const hooks = async () => (await data(`cat ${HOOK_LOG} 2>/dev/null || true`)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
const lastLogLine = async (job: string) => (await data(`grep -v '^    ' /var/log/rigger/${job}.log | tail -n1`)).trim();

before(async () => {
  inv = ensureLab();
  // A converged lab is reused; nodes in any other state are reset first.
  if ((await timed(['playbooks/site.ts'], 15 * 60_000)).code !== 0) {
    resetLab();
    const r = await timed(['playbooks/site.ts'], 15 * 60_000);
    assert.equal(r.code, 0, `site.ts converges the lab:\n${out(r)}`);
  }
  await waitFor('lab_postgres to accept connections', async () => (await node('data', `${PG} pg_isready -q -h 127.0.0.1`)).code === 0);
  await startHookReceiver(node, 'data', 9098, HOOK_LOG);
});
after(async () => {
  await timed(['playbooks/daily-check.ts', '--remove-schedule']);
  await timed(['playbooks/backup.ts', '--remove-schedule']);
  await node('data', 'systemctl stop rigger-hook');
});

test('the installed backup timer: a second install changes nothing, a new release replaces the old, the service started by systemd takes a verified set; with the database stopped it logs and notifies the failure', async () => {
  const first = await timed(['playbooks/backup.ts', '--json', '--install-schedule', ...HOOK]);
  assert.equal(first.code, 0, out(first));
  assert.ok(changed(first) > 0);
  const again = await timed(['playbooks/backup.ts', '--json', '--install-schedule', ...HOOK]);
  assert.equal(again.code, 0, out(again));
  assert.equal(changed(again), 0, 'the second install changes nothing');
  assert.match(reportText(again.stdout), /rigger-backup: 0 2 \* \* \* \(OnCalendar=\*-\*-\* 02:00:00\)/);

  // What the timer runs: the installed release, Node from Debian, secrets only in root's 0600 files.
  assert.match(await data('cat /etc/systemd/system/rigger-backup.service'), /WorkingDirectory=\/opt\/rigger\/backup\/current\nExecStart=\/usr\/bin\/env node --enable-source-maps run-job.mjs rigger-backup.json/);
  assert.match(await data('node --version'), /^v18\./, "Debian bookworm's Node runs the bundle");
  assert.equal(await data('stat -c "%a %U" /etc/rigger/runner /etc/rigger/runner/vault-password /etc/rigger/runner/webhook'), '700 root\n600 root\n600 root\n');
  assert.equal(await data('stat -c "%a" /opt/rigger/backup /opt/rigger/backup/current/ /opt/rigger/backup/current/inventory/lab.yml'), '700\n700\n600\n', 'the release is root\'s alone');
  const passphrase = readFileSync('.lab/vault-password', 'utf8').trim();
  assert.equal(await data(`grep -rlF -- '${passphrase}' /etc/systemd/system /opt/rigger /var/log/rigger || true`), '', 'the passphrase is in no unit, release or log');

  // A changed inventory (as a new rigger would) is a new release: the link moves, the old one goes.
  const release = async () => (await data('readlink /opt/rigger/backup/current; ls /opt/rigger/backup/releases')).trim().split('\n');
  const [current] = await release();
  const dir = mkdtempSync(path.join(tmpdir(), 'scheduled-'));
  copyFileSync(inv, path.join(dir, 'lab.yml'));
  appendFileSync(path.join(dir, 'lab.yml'), '# a later edit\n');
  const edited = await timed(['playbooks/backup.ts', '-i', path.join(dir, 'lab.yml'), '--vault-password-file', '.lab/vault-password', '--install-schedule', ...HOOK]);
  assert.equal(edited.code, 0, out(edited));
  const [next, ...kept] = await release();
  assert.notEqual(next, current);
  assert.deepEqual(kept, [next!.replace('releases/', '')], 'only the current release is kept');
  assert.equal((await timed(['playbooks/backup.ts', '--install-schedule', ...HOOK])).code, 0);
  assert.equal((await release())[0], current, 'the same inputs give the same release back');

  // Started by systemd, as the timer does: a verified set and a success line.
  const ran = await node('data', 'systemctl start rigger-backup.service');
  assert.equal(ran.code, 0, await data('journalctl -u rigger-backup.service --no-pager | tail -n 30'));
  const ok = await lastLogLine('rigger-backup');
  const set = /^\S+Z rigger-backup ok in [\d.]+ s: data: set (\d{8}_\d{6}), 3 items verified/.exec(ok)?.[1];
  assert.ok(set, `the success line: ${ok}`);
  const verify = await timed(['playbooks/backup.ts', '--json', '--verify', set]);
  assert.equal(verify.code, 0, out(verify));
  assert.match(reportText(verify.stdout), new RegExp(`set ${set} VERIFIED`));
  assert.match(await data('tail -n1 /volume1/backup/.rigger/runs.log'), /"status":"ok","trigger":"schedule"/);
  assert.deepEqual(await hooks(), [], 'a good night notifies nobody');

  await node('gateway', 'docker service scale -d lab_postgres=0 >/dev/null');
  await waitFor('lab_postgres to stop', async () => (await data(`docker ps -q --filter label=com.docker.swarm.service.name=lab_postgres`)).trim() === '');
  try {
    const failed = await node('data', 'systemctl start rigger-backup.service');
    assert.notEqual(failed.code, 0, 'the unit fails');
    assert.match(await lastLogLine('rigger-backup'), /rigger-backup FAILED \(exit 2\) in [\d.]+ s: data backup set: postgres-lab_postgres-vibedb: no running container of service lab_postgres/);
    assert.match(await data('journalctl -u rigger-backup.service --no-pager'), /rigger-backup FAILED \(exit 2\)/, 'the journal has it too');
    const [hook, ...more] = await hooks();
    assert.equal(more.length, 0, 'one notification for one failed run');
    assert.equal(hook!.job, 'rigger-backup');
    assert.equal(hook!.status, 'failed');
    assert.match(hook!.reason!, /no running container of service lab_postgres/);
  } finally {
    await node('gateway', 'docker service scale -d lab_postgres=1 >/dev/null');
    await waitFor('lab_postgres back', async () => (await node('data', `${PG} pg_isready -q -h 127.0.0.1`)).code === 0, 120_000);
  }
});

test('daily-check.ts --install-schedule: idempotent; its service, started by systemd, sends the report to the webhook; --remove-schedule removes it', async () => {
  const first = await timed(['playbooks/daily-check.ts', '--json', '--install-schedule', ...HOOK]);
  assert.equal(first.code, 0, out(first));
  assert.ok(changed(first) > 0);
  const again = await timed(['playbooks/daily-check.ts', '--json', '--install-schedule', ...HOOK]);
  assert.equal(changed(again), 0, 'the second install changes nothing');
  assert.match(reportText(again.stdout), /rigger-daily-check: 0 7 \* \* \* \(OnCalendar=\*-\*-\* 07:00:00\)/);

  await data(`: > ${HOOK_LOG}`);
  // The check reaches every node with the runner's own key; its verdict (exit 0 or 2) is the report's, sent either way.
  await node('data', 'systemctl start rigger-daily-check.service');
  const [hook, ...more] = await hooks();
  assert.equal(more.length, 0);
  assert.equal(hook!.job, 'rigger-daily-check');
  for (const n of ['gateway', 'ai', 'data', 'cicd']) assert.match(hook!.report!, new RegExp(`(PASS|WARN|FAIL) +disk +${n}:/ `), `${n} was read`);
  assert.match(hook!.report!, /backup +data +newest verified set/);
  assert.match(await lastLogLine('rigger-daily-check'), /rigger-daily-check (ok|FAILED \(exit 2\)) in [\d.]+ s/);

  const removed = await timed(['playbooks/daily-check.ts', '--json', '--remove-schedule']);
  assert.equal(removed.code, 0, out(removed));
  assert.equal((await data('ls /etc/systemd/system /opt/rigger | grep -c daily-check || true')).trim(), '0');
  assert.equal(changed(await timed(['playbooks/daily-check.ts', '--json', '--remove-schedule'])), 0);
  assert.match(await data('ls /etc/systemd/system'), /rigger-backup\.timer/, "the backup's schedule is untouched");
  assert.match(await data('ls /etc/rigger/runner'), /id_ed25519/, 'the runner stays while the backup still uses it');
});

test('removing the last scheduled playbook removes the runner: its root-only files, and its key from every host', async () => {
  const key = (await data('cat /etc/rigger/runner/id_ed25519.pub')).trim().split(' ')[1]!;
  assert.ok(key, 'the backup install left a runner key');
  for (const n of ['gateway', 'ai', 'data', 'cicd']) assert.match((await node(n, 'cat /root/.ssh/authorized_keys')).stdout, new RegExp(key.replace(/[+/]/g, '\\$&')), `${n} trusts the runner`);

  const removed = await timed(['playbooks/backup.ts', '--json', '--remove-schedule']);
  assert.equal(removed.code, 0, out(removed));
  assert.equal((await data('test -e /etc/rigger/runner && echo runner; ls /opt/rigger 2>/dev/null | grep -x backup; ls /etc/systemd/system | grep -E "^rigger-(backup|daily-check)"; true')).trim(), '', 'no runner file, release or unit is left');
  for (const n of ['gateway', 'ai', 'data', 'cicd']) assert.ok(!(await node(n, 'cat /root/.ssh/authorized_keys')).stdout.includes(key), `${n} no longer trusts the runner's key`);
  assert.equal(changed(await timed(['playbooks/backup.ts', '--json', '--remove-schedule'])), 0, 'a second removal changes nothing');
});
