import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encryptValue } from '../../lib/shell/vault.ts';
import { runCli } from '../helpers/cli.ts';
import { filesHolding } from '../helpers/offsite-sets.ts';
import { runPlays } from '../helpers/run.ts';
import { sshInventory, startSshdWithOwnTmp, type TestSshd } from '../helpers/sshd.ts';

/** The second host. A name long enough that encrypted bytes never hold it by chance (a two-byte 'gw' did, about one run in five). */
const GW = 'gateway.vibe.local';

// The recovery's third source over a real sshd: every disk lost (both
// backup roots wiped), `--from-offsite` takes each host's set from the
// remote, encrypted there. The host with the remote (nas) fetches its own
// set into its root; gw's set is fetched by nas from REMOTE/copies/gw,
// decrypted, verified and kept in nas's copies/gw, then pulled into gw's
// root. This machine's rclone, a local directory as the remote.

let sshd: TestSshd;
let work: string;
before(async () => {
  ({ sshd, work } = await startSshdWithOwnTmp('rigger-offsite-recovery-'));
});
after(async () => sshd.stop());

const PASS = 'test';
const sets = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((d) => /^\d{8}_\d{6}$/.test(d)).sort() : []);

test("every disk lost: --from-offsite recovers each host's set from the encrypted remote, the others' through the host with the remote; origin 'offsite'; check mode fetches nothing", async () => {
  const root = (h: string) => path.join(work, `${h}-root`);
  const data = path.join(work, 'data');
  const remote = path.join(work, 'remote');
  mkdirSync(data);
  const marker = `RECOVER-MARKER-${Math.random().toString(36).slice(2)}`;
  writeFileSync(path.join(data, 'nas.conf'), `${marker} nas\n`.repeat(200));
  writeFileSync(path.join(data, `${GW}.conf`), `${marker} gw\n`.repeat(200));
  const vars = (h: string) => [
    `backup_root: ${root(h)}`,
    'backup_root_create: true',
    'backup_min_free_mb: 0',
    `backup_items: [{kind: config, name: etc, paths: [${path.join(data, `${h}.conf`)}]}]`,
  ];
  const nas = [
    ...vars('nas'),
    `backup_rclone_config: ${path.join(work, 'etc', 'rclone.conf')}`,
    `backup_offsite: { remote: ${remote}, max_delete: 5 }`,
    `backup_offsite_crypt_password: !vault ${encryptValue(`pw-${marker}`, PASS)}`,
    `backup_offsite_crypt_salt: !vault ${encryptValue(`salt-${marker}`, PASS)}`,
  ];
  const inv = sshInventory([{ name: 'nas', sshd, vars: nas }, { name: GW, sshd, vars: vars(GW) }]);
  const env = { RIGGER_VAULT_PASSWORD: PASS };
  const taken = await runCli(['playbooks/backup.ts', '-i', inv], env, 300_000);
  assert.equal(taken.code, 0, taken.stdout + taken.stderr);
  const copied = await runCli(['playbooks/backup.ts', '-i', inv, '--offsite'], env, 300_000);
  assert.equal(copied.code, 0, copied.stdout + copied.stderr);
  assert.match(copied.stdout, /every backup host's sets reach the remote/);
  assert.deepEqual(filesHolding(remote, [marker, 'copies', GW]), [], 'encrypted on the remote');
  const [setNas] = sets(root('nas'));
  const [setGw] = sets(root(GW));
  const original = (h: string, s: string) => readFileSync(path.join(root(h), s, 'config-etc.tar'));
  const before = { nas: original('nas', setNas!), gw: original(GW, setGw!) };

  // Every disk lost.
  rmSync(root('nas'), { recursive: true, force: true });
  rmSync(root(GW), { recursive: true, force: true });

  const { recoveryPlays } = await import('../../playbooks/recovery-plays.ts');
  const verifyPlay = () => recoveryPlays({ backupHosts: ['nas', GW], set: 'latest', offsite: true, force: false }).plays[0]!;
  const checked = await runPlays(inv, [verifyPlay()], { check: true });
  assert.equal(checked.statuses.get('set fetched from off-site')?.get(GW), 'changed', 'check mode says it would fetch');
  assert.equal(existsSync(path.join(root('nas'), 'copies')), false, 'check mode fetched nothing');
  assert.equal(existsSync(root(GW)), false);

  const o = await runPlays(inv, [verifyPlay()]);
  const msgs = o.events.flatMap((e) => (e.type === 'task-host' ? [`${e.host} ${e.task}: ${e.status} ${(e as { msg?: string }).msg ?? ''}`] : [])).join('\n');
  assert.equal(o.summary.exitCode, 0, msgs);
  assert.equal(o.statuses.get('set on copy host')?.get(GW), 'ok', msgs);
  assert.equal(o.statuses.get('off-site set verified')?.get(GW), 'ok', msgs);
  assert.equal(o.statuses.get('set verified')?.get('nas'), 'ok', msgs);
  assert.deepEqual(original('nas', setNas!), before.nas, "nas's set is back in its root, byte for byte");
  assert.deepEqual(original(GW, setGw!), before.gw, "gw's set is back in its root, byte for byte");
  assert.deepEqual(sets(path.join(root('nas'), 'copies', GW)), [setGw], "the fetched copy is kept on nas as gw's copy");
  assert.deepEqual([...readdirSync(root('nas')), ...readdirSync(root(GW))].filter((d) => d.endsWith('.partial')), []);
  const result = (host: string) => [...o.runner.sessions.get(host)!.results.entries()].find(([t]) => t.name === 'recovery set')?.[1].result as { origin: string; originHost?: string; set: string };
  assert.equal(result('nas').origin, 'offsite');
  assert.deepEqual({ origin: result(GW).origin, originHost: result(GW).originHost, set: result(GW).set }, { origin: 'offsite', originHost: 'nas', set: setGw });
});
