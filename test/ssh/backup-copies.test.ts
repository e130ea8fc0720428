// The backup playbook's second copy over a real sshd: two inventory hosts
// (backup roots a and b under one scratch dir) copy each other's sets (the
// default ring when no host has backup_offsite), verified; --list shows each
// set's copy, a flipped byte in the newest copy is reported; the next run
// repairs it; retention of copies/H on the copy host follows H's rules.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../helpers/cli.ts';
import { runPlays } from '../helpers/run.ts';
import { sshInventory, startSshdWithOwnTmp, type TestSshd } from '../helpers/sshd.ts';

let sshd: TestSshd;
let work: string;
before(async () => {
  ({ sshd, work } = await startSshdWithOwnTmp('rigger-copies-'));
});
after(async () => sshd.stop());

/** The daily check reads the swarm on the first manager: a group with one host (no swarm here: its findings fail, the backup ones are read). */
const MANAGERS = (host: string) => `  children:\n    managers:\n      hosts:\n        ${host}: {}`;
const sets = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((d) => /^\d{8}_\d{6}/.test(d)).sort() : []);

test('backup.ts copies each host\'s verified sets to its copy host; --list shows them; a damaged copy is reported and repaired; retention on the copy host', async () => {
  const rootA = path.join(work, 'a-root');
  const rootB = path.join(work, 'b-root');
  const data = path.join(work, 'data');
  mkdirSync(data);
  writeFileSync(path.join(data, 'app.conf'), 'setting=1\n'.repeat(500));
  const hostVars = (root: string) => [
    `backup_root: ${root}`,
    'backup_root_create: true',
    'backup_min_free_mb: 0',
    `backup_items: [{kind: config, name: etc, paths: [${path.join(data, 'app.conf')}]}]`,
    'backup_retention: {config: {last: 2, daily: 0}}',
  ];
  const inv = sshInventory([{ name: 'a', sshd, vars: hostVars(rootA) }, { name: 'b', sshd, vars: hostVars(rootB) }], MANAGERS('a'));
  const run = async (...args: string[]) => {
    const r = await runCli(['playbooks/backup.ts', '-i', inv, ...args], {}, 300_000);
    return { ...r, out: r.stdout + r.stderr };
  };

  const first = await run();
  assert.equal(first.code, 0, first.out);
  const [setA] = sets(rootA);
  assert.ok(setA, 'a took a set');
  assert.deepEqual(sets(path.join(rootB, 'copies', 'a')), [setA], "a's set has its copy on b (the ring: a -> b)");
  assert.deepEqual(sets(path.join(rootA, 'copies', 'b')), sets(rootB), "b's set has its copy on a (b -> a)");
  assert.deepEqual(sets(rootA), [setA], 'copies/ is not counted among the own sets');
  for (const f of ['config-etc.tar', 'manifest.json']) assert.deepEqual(readFileSync(path.join(rootB, 'copies', 'a', setA, f)), readFileSync(path.join(rootA, setA, f)));
  assert.match(first.stdout, new RegExp(`^a: set ${setA}.*\\n  copy: 1 sets verified on b in copies/a`, 'm'));

  const listed = await run('--list');
  assert.equal(listed.code, 0, listed.out);
  assert.match(listed.stdout, new RegExp(`${setA} +verified .*verified on b`));
  assert.match(listed.stdout, /checked: manifest, every file's presence and size; for the newest set .* sha256/);

  // A flipped byte in the newest set's copy keeps its size: only the sha256 sees it.
  const copied = path.join(rootB, 'copies', 'a', setA, 'config-etc.tar');
  const bytes = readFileSync(copied);
  bytes[700] = bytes[700]! ^ 0x20;
  writeFileSync(copied, bytes);
  const damaged = await run('--list');
  assert.match(damaged.stdout, new RegExp(`${setA} +verified .*DAMAGED on b: config-etc\\.tar's sha256 differs`));

  const daily = await runCli(['playbooks/daily-check.ts', '-i', inv], {}, 300_000);
  assert.equal(daily.code, 2, 'the daily check fails');
  assert.match(daily.stdout, new RegExp(`^FAIL +backup copy +a +newest set ${setA}: its copy on b is damaged: config-etc\\.tar's sha256`, 'm'));
  assert.match(daily.stdout, /^PASS +backup copy +b +newest set \d{8}_\d{6} verified on a/m);

  // The next run takes a new set and re-checks the previous newest copy by sha256: repaired.
  await sleep(1100);
  const second = await run();
  assert.equal(second.code, 0, second.out);
  const ownA = sets(rootA);
  assert.equal(ownA.length, 2);
  assert.deepEqual(sets(path.join(rootB, 'copies', 'a')), ownA);
  assert.deepEqual(readFileSync(copied), readFileSync(path.join(rootA, setA, 'config-etc.tar')), 'the damaged copy was replaced by a verified one');
  assert.doesNotMatch((await run('--list')).stdout, /DAMAGED|MISSING/);
  const dailyAfter = await runCli(['playbooks/daily-check.ts', '-i', inv], {}, 300_000);
  assert.match(dailyAfter.stdout, new RegExp(`^PASS +backup copy +a +newest set ${ownA[1]} verified on b`, 'm'));

  // A third set: a keeps 2 (last: 2), and so does its copies dir on b.
  await sleep(1100);
  const third = await run();
  assert.equal(third.code, 0, third.out);
  assert.equal(sets(rootA).length, 2);
  assert.deepEqual(sets(path.join(rootB, 'copies', 'a')), sets(rootA), 'retention on the copy host kept the same two');
  assert.ok(!sets(path.join(rootB, 'copies', 'a')).includes(setA), 'the oldest copy was deleted');
});

test('one backup host only: no copy is attempted, the report says one copy only, the daily check warns', async () => {
  const root = path.join(work, 'solo-root');
  const data = path.join(work, 'solo-data');
  mkdirSync(data);
  writeFileSync(path.join(data, 'app.conf'), 'x=1\n'.repeat(100));
  const inv = sshInventory([{ name: 'solo', sshd, vars: [`backup_root: ${root}`, 'backup_root_create: true', 'backup_min_free_mb: 0', `backup_items: [{kind: config, name: etc, paths: [${path.join(data, 'app.conf')}]}]`] }], MANAGERS('solo'));
  const r = await runCli(['playbooks/backup.ts', '-i', inv], {}, 300_000);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}copy: one copy only \(no copy host/m);
  assert.deepEqual(readdirSync(root).filter((d) => d === 'copies'), [], 'no copies dir');
  const daily = await runCli(['playbooks/daily-check.ts', '-i', inv], {}, 300_000);
  assert.match(daily.stdout, /^WARN +backup copy +solo +one copy only/m);
});

test("recovery of a host whose disk is lost takes its set from the copy host: pulled into its root, verified, origin 'copy'; the other host's from its own disk; check mode pulls nothing", async () => {
  const rootA = path.join(work, 'ra-root');
  const rootB = path.join(work, 'rb-root');
  const data = path.join(work, 'r-data');
  mkdirSync(data);
  writeFileSync(path.join(data, 'app.conf'), 'recover=me\n'.repeat(300));
  const hostVars = (root: string) => [`backup_root: ${root}`, 'backup_root_create: true', 'backup_min_free_mb: 0', `backup_items: [{kind: config, name: etc, paths: [${path.join(data, 'app.conf')}]}]`];
  const inv = sshInventory([{ name: 'a', sshd, vars: hostVars(rootA) }, { name: 'b', sshd, vars: hostVars(rootB) }]);
  const taken = await runCli(['playbooks/backup.ts', '-i', inv], {}, 300_000);
  assert.equal(taken.code, 0, taken.stdout + taken.stderr);
  const [setA] = sets(rootA);
  const original = readFileSync(path.join(rootA, setA!, 'config-etc.tar'));
  rmSync(rootA, { recursive: true, force: true });

  const { recoveryPlays } = await import('../../playbooks/recovery-plays.ts');
  const verifyPlay = () => recoveryPlays({ backupHosts: ['a', 'b'], set: 'latest', offsite: false, force: false }).plays[0]!;
  const checked = await runPlays(inv, [verifyPlay()], { check: true });
  assert.equal(checked.statuses.get('copy pulled')?.get('a'), 'changed', 'check mode says it would pull');
  assert.equal(existsSync(rootA), false, 'check mode wrote nothing on the lost disk');

  const o = await runPlays(inv, [verifyPlay()]);
  const source = (host: string) => o.events.find((e) => e.type === 'task-host' && e.task === 'recovery set' && e.host === host) as { status: string; msg?: string } | undefined;
  assert.equal(source('a')?.status, 'ok', source('a')?.msg);
  assert.match(source('a')?.msg ?? '', new RegExp(`set ${setA} \\(pulled from the copy on b\\)`));
  assert.equal(o.statuses.get('set verified')?.get('a'), 'ok');
  assert.deepEqual(readFileSync(path.join(rootA, setA!, 'config-etc.tar')), original, "a's set is back in its root, byte for byte");
  assert.deepEqual(sets(rootA).filter((d) => d.endsWith('.partial')), []);
  assert.equal(o.statuses.get('copy pulled')?.get('b'), 'skipped', "b's own disk has its set");
  const rows = o.runner.sessions.get('a')!.results;
  const result = [...rows.entries()].find(([t]) => t.name === 'recovery set')?.[1].result as { origin: string; originHost?: string };
  assert.deepEqual({ origin: result.origin, originHost: result.originHost }, { origin: 'copy', originHost: 'b' });
  const resultB = [...o.runner.sessions.get('b')!.results.entries()].find(([t]) => t.name === 'recovery set')?.[1].result as { origin: string };
  assert.equal(resultB.origin, 'own');
});

test('a set on the own disk that does not verify gives way to the verified copy on the copy host, which replaces it', async () => {
  const rootA = path.join(work, 'da-root');
  const rootB = path.join(work, 'db-root');
  const data = path.join(work, 'd-data');
  mkdirSync(data);
  writeFileSync(path.join(data, 'app.conf'), 'keep=me\n'.repeat(300));
  const hostVars = (root: string) => [`backup_root: ${root}`, 'backup_root_create: true', 'backup_min_free_mb: 0', `backup_items: [{kind: config, name: etc, paths: [${path.join(data, 'app.conf')}]}]`];
  const inv = sshInventory([{ name: 'a', sshd, vars: hostVars(rootA) }, { name: 'b', sshd, vars: hostVars(rootB) }]);
  const taken = await runCli(['playbooks/backup.ts', '-i', inv], {}, 300_000);
  assert.equal(taken.code, 0, taken.stdout + taken.stderr);
  const [setA] = sets(rootA);
  const item = path.join(rootA, setA!, 'config-etc.tar');
  const original = readFileSync(item);
  // A flipped byte on a's own disk: same size, another sha256.
  const flipped = Buffer.from(original);
  flipped[600] = flipped[600]! ^ 0xff;
  writeFileSync(item, flipped);

  const { recoveryPlays } = await import('../../playbooks/recovery-plays.ts');
  const o = await runPlays(inv, [recoveryPlays({ backupHosts: ['a', 'b'], set: 'latest', offsite: false, force: false }).plays[0]!]);
  const own = o.events.find((e) => e.type === 'task-host' && e.task === 'set on own disk' && e.host === 'a') as { msg?: string } | undefined;
  assert.match(own?.msg ?? '', /./);
  assert.equal(o.statuses.get('copy pulled')?.get('a'), 'changed', "a's damaged set sent it to the copy");
  assert.equal(o.statuses.get('set verified')?.get('a'), 'ok');
  const result = [...o.runner.sessions.get('a')!.results.entries()].find(([t]) => t.name === 'recovery set')?.[1].result as { origin: string; set: string };
  assert.deepEqual({ origin: result.origin, set: result.set }, { origin: 'copy', set: setA });
  assert.deepEqual(readFileSync(item), original, "the verified copy replaced the damaged set on a's disk");
  assert.equal(o.statuses.get('copy pulled')?.get('b'), 'skipped', "b's own set verifies");
});

test('backup_copy_to naming a host that takes no sets is refused before anything runs', async () => {
  const inv = sshInventory([
    { name: 'a', sshd, vars: [`backup_root: ${path.join(work, 'x-root')}`, 'backup_root_create: true', 'backup_copy_to: web', `backup_items: [{kind: config, name: etc, paths: [/etc/hostname]}]`] },
    { name: 'web', sshd },
  ]);
  const r = await runCli(['playbooks/backup.ts', '-i', inv], {}, 120_000);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /a: backup_copy_to is web, which is not a backup host/);
  assert.equal(existsSync(path.join(work, 'x-root')), false, 'nothing ran');
});
