import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { nextRuns, wallClock } from '../../lib/backup/schedule.ts';
import { runCli } from '../helpers/cli.ts';
import { ensureLab } from '../helpers/lab.ts';
import { convergedLabWithoutData, jsonEvents, labShell, PG, reportText, waitFor } from '../helpers/data-node.ts';
import { webhookReceiverCommand } from '../helpers/webhook.ts';

// The backup issue's acceptance on the lab: the data node's real PostgreSQL
// (lab_postgres), a real volume (lab_files_data), real tar, rclone (Debian's
// package) copying to the off-site stand-in (a volume outside every node),
// systemd timers on the node.
let inv: string;
const ROOT = '/volume1/backup';
const OFFSITE = '/mnt/offsite/rigger';

const { node, data, psql } = labShell(() => inv);
const backup = (args: string[] = []) => runCli(['playbooks/backup.ts', '--json', ...args], {}, 5 * 60_000);

const evs = jsonEvents;
const hostEv = (stdout: string, task: string) => evs(stdout).find((e) => e.type === 'task-host' && e.task === task && e.host === 'data');
const recap = (stdout: string) => evs(stdout).at(-1)!.hosts!;
/** Retention after a failed set: never reached (the block stopped) or skipped, never run. */
const retentionDidNotRun = (stdout: string) => {
  const e = hostEv(stdout, 'retention');
  assert.ok(!e || e.status === 'skipped', `retention must not run after a failure: ${e?.status} ${e?.msg}`);
};

/** Every file under a root (not the run log) with its checksum: "earlier sets unchanged". */
const digest = (root: string) => data(`cd ${root} && find . -path ./.rigger -prune -o -type f -print0 | sort -z | xargs -0r sha256sum; ls -a`);
const publishedSets = async (root = ROOT) => (await data(`cd ${root} && for d in [0-9]*_[0-9]*; do [ -f "$d/manifest.json" ] && echo "$d"; done; true`)).split('\n').filter(Boolean);
const partials = async (root = ROOT) => (await data(`ls -d ${root}/*.partial 2>/dev/null || true`)).trim();


before(async () => {
  inv = ensureLab();
  // Converged and holding no earlier suite's data: the lab the suite before left, when converged, with its data emptied.
  await convergedLabWithoutData(inv);
  await waitFor('lab_postgres to accept connections', async () => (await node('data', `${PG} pg_isready -q -h 127.0.0.1`)).code === 0);
  await psql('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL); INSERT INTO notes (body) SELECT md5(i::text) FROM generate_series(1, 500) i; CREATE TABLE tags (id int PRIMARY KEY, name text); INSERT INTO tags SELECT i, $$tag-$$ || i FROM generate_series(1, 37) i;');
  await data(`docker run --rm -v lab_files_data:/v --entrypoint sh $(docker inspect -f '{{.Config.Image}}' $(docker ps -q --filter label=com.docker.swarm.service.name=lab_files | head -n1)) -c 'mkdir -p /v/sub && echo hello > /v/a.txt && head -c 5000 /dev/urandom > /v/sub/b.bin'`);
});
// No reset after: every suite that needs fresh nodes (or fresh backup disks) resets them itself.

test('a set: manifest checksums match, the dump restores with equal rows, the volume tar holds the files', async () => {
  const check = await backup(['--check']);
  assert.equal(check.code, 0, check.stdout);
  assert.deepEqual(await publishedSets(), [], 'check mode wrote no set');

  const r = await backup();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const sets = await publishedSets();
  assert.equal(sets.length, 1);
  const set = sets[0]!;
  assert.match(set, /^\d{8}_\d{6}$/);
  assert.equal(await partials(), '');
  const manifest = JSON.parse(await data(`cat ${ROOT}/${set}/manifest.json`)) as { items: { name: string; file: string; sha256: string; tables?: number; files?: number }[] };
  assert.deepEqual(manifest.items.map((i) => i.name), ['postgres-lab_postgres-vibedb', 'volume-lab_files_data', 'config-docker']);
  for (const item of manifest.items) {
    const sum = (await data(`sha256sum ${ROOT}/${set}/${item.file}`)).split(' ')[0];
    assert.equal(sum, item.sha256, `${item.name}'s checksum`);
  }
  assert.equal(await data(`stat -c %a ${ROOT}/${set} ${ROOT}/${set}/manifest.json`), '700\n600\n', 'umask 077');

  // The dump restores into a scratch database with the same rows.
  await psql('DROP DATABASE IF EXISTS scratch', 'postgres');
  await psql('CREATE DATABASE scratch', 'postgres');
  await data(`${PG.replace('docker exec', 'docker exec -i')} pg_restore -U postgres -d scratch --exit-on-error < ${ROOT}/${set}/postgres-lab_postgres-vibedb.dump`);
  for (const table of ['notes', 'tags']) {
    const q = `SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY t.id)) FROM ${table} t`;
    assert.equal(await psql(q, 'scratch'), await psql(q), `${table}: rows and content`);
  }
  assert.equal(manifest.items[0]!.tables, 2, 'the manifest counts the tables read back');

  // The volume's tar holds the files.
  const listing = await data(`tar -tf ${ROOT}/${set}/volume-lab_files_data.tar | sort`);
  assert.match(listing, /^\.\/a\.txt$/m);
  assert.match(listing, /^\.\/sub\/b\.bin$/m);
  assert.equal(await data(`tar -xOf ${ROOT}/${set}/volume-lab_files_data.tar ./a.txt`), 'hello\n');

  const verify = await backup(['--verify', 'latest']);
  assert.equal(verify.code, 0, verify.stdout);
  assert.match(reportText(verify.stdout), new RegExp(`set ${set} VERIFIED`));
  const list = await backup(['--list']);
  assert.match(reportText(list.stdout), new RegExp(`${set}\\s+verified`));
});

test('a failed dump (wrong password, PostgreSQL stopped) publishes nothing, deletes nothing, and calls the webhook', async () => {
  // Two more good sets, so retention would have something to delete.
  for (let i = 0; i < 2; i++) assert.equal((await backup()).code, 0);
  const before = await digest(ROOT);
  // -e KEY=VALUE reads VALUE as a string, as Ansible does: structures go in as JSON.
  const keepOne = JSON.stringify({ backup_retention: { postgres: { last: 1, daily: 0 }, volume: { last: 1, daily: 0 }, config: { last: 1, daily: 0 } } });
  // The webhook's receiver: a small HTTP server on the data node's loopback, under systemd so it outlives this command.
  await node('data', webhookReceiverCommand());
  await waitFor('the webhook receiver', async () => (await node('data', 'curl -s -o /dev/null http://127.0.0.1:9099/')).code === 0);
  const items = JSON.stringify({ backup_items: [{ kind: 'postgres', service: 'lab_postgres', database: 'vibedb', password: 'not-the-password' }, { kind: 'volume', volume: 'lab_files_data' }] });
  const wrong = await backup(['-e', items, '-e', keepOne, '-e', 'backup_webhook=http://127.0.0.1:9099/hook']);
  assert.equal(wrong.code, 2);
  assert.match(hostEv(wrong.stdout, 'backup set')!.msg!, /postgres-lab_postgres-vibedb: pg_dump of database vibedb failed: .*password authentication failed/);
  retentionDidNotRun(wrong.stdout);
  assert.equal(hostEv(wrong.stdout, 'failure webhook')!.status, 'changed');
  assert.ok(!wrong.stdout.includes('not-the-password'), 'the password is never printed');
  const hook = JSON.parse((await node('data', 'cat /tmp/hook.log')).stdout.trim().split('\n')[0]!) as { host: string; reason: string };
  assert.equal(hook.host, 'data');
  assert.match(hook.reason, /postgres-lab_postgres-vibedb: pg_dump .*password authentication failed/);
  await node('data', 'systemctl stop rigger-hook');
  assert.equal(await digest(ROOT), before, 'earlier sets unchanged, no new set, no .partial');

  await node('gateway', 'docker service scale -d lab_postgres=0 >/dev/null');
  await waitFor('lab_postgres to stop', async () => (await data(`docker ps -q --filter label=com.docker.swarm.service.name=lab_postgres`)).trim() === '');
  try {
    const stopped = await backup(['-e', keepOne]);
    assert.equal(stopped.code, 2);
    assert.match(hostEv(stopped.stdout, 'backup set')!.msg!, /postgres-lab_postgres-vibedb: no running container of service lab_postgres/);
    retentionDidNotRun(stopped.stdout);
    assert.equal(await digest(ROOT), before);
    const list = reportText((await backup(['--list'])).stdout);
    assert.match(list, /set\s+failed\s+manual\s+.*no running container of service lab_postgres/, 'the run log shows the failed run');
  } finally {
    await node('gateway', 'docker service scale -d lab_postgres=1 >/dev/null');
    await waitFor('lab_postgres back', async () => (await node('data', `${PG} pg_isready -q -h 127.0.0.1`)).code === 0, 90_000);
  }

  // With the database back, the same rules delete: they are what a failure held back.
  const ok = await backup(['-e', keepOne]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(hostEv(ok.stdout, 'retention')!.msg!, /delete 3 sets/);
  assert.equal((await publishedSets()).length, 1);
});

test('too little free space is refused before writing; a backup root that fills mid-dump: nothing published, nothing left, earlier sets unchanged', async () => {
  await data('mkdir -p /mnt/tiny && (mountpoint -q /mnt/tiny || mount -t tmpfs -o size=1m tmpfs /mnt/tiny)');
  try {
    const small = ['-e', 'backup_root=/mnt/tiny', '-e', 'backup_min_free_mb=0'];
    assert.equal((await backup(small)).code, 0, 'a first small set fits');
    const before = await digest('/mnt/tiny');
    // Free space is checked before anything is written, against the last set's size.
    const tooSmall = await backup([...small, '-e', 'backup_free_factor=1000']);
    assert.equal(tooSmall.code, 2);
    assert.match(hostEv(tooSmall.stdout, 'backup set')!.msg!, /^space: only \d+ KiB free in \/mnt\/tiny; need \d+ KiB \(the last set took \d+ KiB\)/);
    assert.equal(await digest('/mnt/tiny'), before);
    // About 3 MB of dump that does not compress, on a 1 MiB file system.
    await psql('CREATE TABLE big AS SELECT i, md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) AS junk FROM generate_series(1, 40000) i');
    const full = await backup(small);
    assert.equal(full.code, 2, full.stdout);
    assert.match(hostEv(full.stdout, 'backup set')!.msg!, /postgres-lab_postgres-vibedb: .*(No space left|could not read the dump)/i);
    retentionDidNotRun(full.stdout);
    assert.equal(await digest('/mnt/tiny'), before);
    assert.equal(await partials('/mnt/tiny'), '');
  } finally {
    await psql('DROP TABLE IF EXISTS big');
    await data('umount /mnt/tiny || true');
  }
});

test('the runner killed mid-dump: no unverified set is listed as good, and the next run succeeds', async () => {
  const sets = await publishedSets();
  // A lock pg_dump must wait for, so the kill lands mid-dump.
  await data(`${PG.replace('docker exec', 'docker exec -d')} psql -U postgres -d vibedb -c "BEGIN; LOCK TABLE notes IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);"`);
  try {
    await waitFor('the lock', async () => (await psql("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'notes'::regclass")).trim() === '1');
    const child = spawn('node', ['--import', 'tsx', 'playbooks/backup.ts', '--json'], { stdio: 'ignore' });
    await waitFor('pg_dump to wait on the lock', async () => (await psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'")).trim() === '1');
    assert.notEqual(await partials(), '', 'the set is being written as .partial');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const list = reportText((await backup(['--list'])).stdout);
    for (const line of list.split('\n').filter((l) => /^\d{8}_\d{6}\s+verified/.test(l))) {
      assert.ok(sets.includes(line.split(/\s+/)[0]!), `only the sets published before are listed as verified: ${line}`);
    }
    assert.deepEqual(await publishedSets(), sets);
  } finally {
    await psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()");
  }
  const next = await backup();
  assert.equal(next.code, 0, next.stdout);
  assert.equal((await publishedSets()).length, sets.length + 1);
  assert.equal(await partials(), '', 'the killed run left no partial set');
});

test('the off-site copy: verified sets only, an empty source refused, deletions capped', async () => {
  await data(`mkdir -p ${ROOT}/20200101_000000.partial && echo junk > ${ROOT}/20200101_000000.partial/x`);
  const first = await backup(['--offsite']);
  assert.equal(first.code, 0, first.stdout);
  const local = await publishedSets();
  assert.deepEqual((await data(`ls ${OFFSITE}`)).split('\n').filter(Boolean), local, 'exactly the verified sets, not the partial one');
  for (const set of local) {
    // The copy's manifest is the local one byte for byte (cmp's status counts: data() throws on a difference),
    // and every file of the remote set is one the manifest lists, with the manifest's checksum.
    await data(`cmp ${OFFSITE}/${set}/manifest.json ${ROOT}/${set}/manifest.json`);
    const manifest = JSON.parse(await data(`cat ${OFFSITE}/${set}/manifest.json`)) as { items: { file: string; sha256: string }[] };
    const remote = (await data(`cd ${OFFSITE}/${set} && find . -type f ! -path ./manifest.json -print0 | xargs -0r sha256sum`)).split('\n').filter(Boolean).map((l) => l.split(/ +/)).map(([sum, file]) => [file!.replace(/^\.\//, ''), sum!] as const);
    assert.ok(manifest.items.length > 0, `${set}: the manifest lists its items`);
    assert.deepEqual(new Map(remote), new Map(manifest.items.map((i) => [i.file, i.sha256] as const)), `${set}: every file of the remote set is listed and checksummed by the manifest`);
  }
  const again = await backup(['--offsite']);
  assert.equal(recap(again.stdout).data!.changed, 1, 'a second copy transfers nothing (only its run-log line changes)');
  await data(`rm -rf ${ROOT}/20200101_000000.partial`);

  const remoteBefore = await digest(OFFSITE);
  await data('mkdir -p /volume1/empty');
  const empty = await backup(['--offsite', '-e', 'backup_root=/volume1/empty']);
  assert.equal(empty.code, 2);
  assert.match(hostEv(empty.stdout, 'off-site copy')!.msg!, /refusing the off-site copy: no verified set under \/volume1\/empty/);
  const missing = await backup(['--offsite', '-e', 'backup_root=/volume1/not-mounted']);
  assert.equal(missing.code, 2);
  assert.match(hostEv(missing.stdout, 'off-site copy')!.msg!, /refusing the off-site copy: \/volume1\/not-mounted does not exist/);
  assert.equal(await digest(OFFSITE), remoteBefore, 'the remote is untouched');

  // Seven older sets on the remote, verified there (copies of the newest set under older names, their
  // manifests naming them) that the remote's retention drops when it keeps the last local.length sets of every kind.
  // Seven is more than max_delete (5). Remote retention follows the remote's own sets, not this disk's.
  const newest = local.at(-1)!;
  await data(`for i in 1 2 3 4 5 6 7; do s=2020010$i"_020000"; cp -a ${OFFSITE}/${newest} ${OFFSITE}/$s && sed -i "s/\\"set\\":\\"${newest}\\"/\\"set\\":\\"$s\\"/" ${OFFSITE}/$s/manifest.json; done`);
  const lastOnly = JSON.stringify({ backup_retention: Object.fromEntries(['postgres', 'volume', 'config'].map((k) => [k, { last: local.length, daily: 0 }])) });
  const capped = await backup(['--offsite', '-e', lastOnly]);
  assert.equal(capped.code, 2);
  assert.match(hostEv(capped.stdout, 'off-site copy')!.msg!, /it would delete 7 sets on .*more than max_delete 5/);
  assert.equal((await data(`ls ${OFFSITE} | wc -l`)).trim(), String(local.length + 7), 'nothing deleted');
  const raised = await backup(['--offsite', '-e', lastOnly, '-e', JSON.stringify({ backup_offsite: { remote: OFFSITE, max_delete: 7 } })]);
  assert.equal(raised.code, 0, raised.stdout);
  assert.deepEqual((await data(`ls ${OFFSITE}`)).split('\n').filter(Boolean), local);
});

test('--install-schedule: changed, then nothing; the timers fire when the schedule says; --remove-schedule undoes it', async () => {
  const first = await backup(['--install-schedule']);
  assert.equal(first.code, 0, first.stdout);
  assert.ok(recap(first.stdout).data!.changed > 0);
  const second = await backup(['--install-schedule']);
  assert.equal(recap(second.stdout).data!.changed, 0, 'the second install changes nothing');
  const report = reportText(second.stdout);
  const expected = nextRuns('0 2 * * *', 'Asia/Seoul', 3).map((d) => wallClock(d, 'Asia/Seoul'));
  assert.match(report, new RegExp(`rigger-backup: 0 2 \\* \\* \\* \\(OnCalendar=\\*-\\*-\\* 02:00:00\\)\\n\\s+next runs: ${expected.join(', ')}`));
  const [backupNext, offsiteNext] = (await data('systemctl show -p NextElapseUSecRealtime --value rigger-backup.timer rigger-backup-offsite.timer')).split('\n').filter(Boolean);
  assert.match(backupNext!, new RegExp(`${expected[0]}:00 KST`), 'the node agrees on the next nightly run');
  const sunday = wallClock(nextRuns('0 3 * * 0', 'Asia/Seoul', 1)[0]!, 'Asia/Seoul');
  assert.match(offsiteNext!, new RegExp(`^Sun ${sunday}:00 KST`), 'and on the weekly off-site copy');
  assert.match(await data('systemctl is-enabled rigger-backup.timer rigger-backup-offsite.timer'), /^enabled\nenabled\n$/);
  assert.match(await data('cat /etc/systemd/system/rigger-backup.service'), /ExecStart=\/usr\/bin\/env node --enable-source-maps run-job.mjs rigger-backup.json/);

  const removed = await backup(['--remove-schedule']);
  assert.equal(removed.code, 0, removed.stdout);
  assert.equal((await data('ls /etc/systemd/system | grep -c rigger-backup || true')).trim(), '0');
  assert.equal(recap((await backup(['--remove-schedule'])).stdout).data!.changed, 0);
});
