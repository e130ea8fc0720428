import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay, ops } from '../../lib/index.ts';
import { encryptValue } from '../../lib/shell/vault.ts';
import { backupVars } from '../../lib/backup/config.ts';
import { obscure } from '../../lib/backup/rclone-obscure.ts';
import { offsiteSetup } from '../../lib/backup/offsite-setup.ts';
import { chooseRunner } from '../../lib/backup/rclone-runner.ts';
import * as recoveryOps from '../../lib/recovery/ops/index.ts';
import type { FetchedSet } from '../../lib/recovery/ops/index.ts';
import { backupOffsite } from '../../roles/backup/index.ts';
import { runPlays, scratchDir, type RunOutput } from '../helpers/run.ts';
import { leaks } from '../helpers/secret-forms.ts';
import { filesHolding, filesUnder, setsIn, setVerifies, writeSet } from '../helpers/offsite-sets.ts';

// The off-site copy as `backup.ts --offsite` runs it (the backup-offsite
// role on a local host) with this machine's real rclone, to a local
// directory as the remote: encrypted with the crypt keys, mirroring the
// root (own sets and copies/HOST/SET), and fetched back decrypted.

const rand = () => Math.random().toString(36).slice(2, 10);
const GW = 'gw.vibe.local';

interface Fixture {
  dir: string;
  root: string;
  remote: string;
  config: string;
  marker: string;
  password: string;
  salt: string;
  run: (opts?: { crypt?: boolean | 'password-only'; maxDelete?: number; retention?: unknown; gwRetention?: unknown }) => Promise<RunOutput>;
  /** Fetches a set into another root; the op's result with the run. */
  fetch: (host: string | undefined, set: string, into: string) => Promise<RunOutput & { got?: FetchedSet }>;
}

function fixture(): Fixture {
  const dir = scratchDir();
  const root = path.join(dir, 'backup');
  const remote = path.join(dir, 'offsite');
  const config = path.join(dir, 'etc', 'rclone.conf');
  mkdirSync(root);
  const marker = `OFFSITE-MARKER-${rand()}`;
  const password = `pw-${rand()}-${rand()}`;
  const salt = `salt-${rand()}-${rand()}`;
  const inventory = (o: Parameters<Fixture['run']>[0] = {}, rootOf = root) => {
    const crypt = o.crypt ?? true;
    const data = [
      'ansible_connection: local',
      `backup_root: ${JSON.stringify(rootOf)}`,
      `backup_rclone_config: ${JSON.stringify(config)}`,
      `backup_offsite: ${JSON.stringify({ remote, max_delete: o.maxDelete ?? 5 })}`,
      `backup_retention: ${JSON.stringify(o.retention ?? {})}`,
      ...(crypt ? [`backup_offsite_crypt_password: !vault ${encryptValue(password, 'test')}`] : []),
      ...(crypt === true ? [`backup_offsite_crypt_salt: !vault ${encryptValue(salt, 'test')}`] : []),
    ];
    const gw = ['ansible_connection: local', `backup_items: ${JSON.stringify([{ kind: 'volume', volume: 'files' }])}`, `backup_retention: ${JSON.stringify(o.gwRetention ?? {})}`];
    const file = path.join(dir, `hosts-${rand()}.yml`);
    writeFileSync(file, `all:\n  hosts:\n    data:\n${data.map((l) => `      ${l}\n`).join('')}    ${GW}:\n${gw.map((l) => `      ${l}\n`).join('')}`);
    return file;
  };
  return {
    dir,
    root,
    remote,
    config,
    marker,
    password,
    salt,
    run: (o) => runPlays(inventory(o), [definePlay({ name: 'backup off-site', hosts: 'data', roles: [backupOffsite] })]),
    fetch: async (host, set, into) => {
      let got: FetchedSet | undefined;
      const o = await runPlays(inventory({}, into), [
        definePlay({
          name: 'fetch',
          hosts: 'data',
          schema: backupVars,
          tasks: ({ task }) => {
            const fetch = task({
              name: 'fetch',
              op: (h) => {
                const s = offsiteSetup(h.vars, { apt: true, docker: false });
                if ('problem' in s) throw new Error(s.problem);
                return recoveryOps.offsiteFetch({ root: h.vars.backup_root, rootCreate: true, access: s.access, set, nearSeconds: 600, ...(host ? { host } : {}) });
              },
            });
            const keep = task({
              name: 'keep result',
              op: (h) => {
                got = h.result(fetch);
                return ops.assert({ that: true, message: 'kept' });
              },
            });
            return [fetch, keep];
          },
        }),
      ]);
      return got ? { ...o, got } : o;
    },
  };
}

const status = (o: RunOutput, task = 'off-site copy') => o.statuses.get(task)?.get('data');
const messages = (o: RunOutput) => o.events.flatMap((e) => (e.type === 'task-host' ? [`${e.task}: ${(e as { msg?: string }).msg ?? ''}`] : [])).join('\n');

test("obscure gives what rclone's own reveal reads back", () => {
  // One value whose obscured form starts with '-' (base64url's alphabet has it: about one value in 64), which
  // a command line takes for a flag unless `--` ends the flags: the random one below hit it now and then.
  const dashed = Array.from({ length: 1000 }, (_, i) => `dash ${i}`).find((v) => obscure(v).startsWith('-'));
  assert.ok(dashed, 'a value whose obscured form starts with a dash');
  for (const value of ['hello world', `p'w "$x" ü€ ${rand()}`, 'x'.repeat(200), dashed]) {
    assert.equal(execFileSync('rclone', ['reveal', '--', obscure(value)], { encoding: 'utf8' }).replace(/\n$/, ''), value);
  }
  assert.equal(obscure('same'), obscure('same'), 'the same key gives the same config: a second run changes nothing');
});

test('auto runs Debian rclone where apt is and the image elsewhere; the override wins', () => {
  assert.deepEqual(chooseRunner('auto', 'img:1', { apt: true, docker: true }), { how: 'package' });
  assert.deepEqual(chooseRunner('auto', 'img:1', { apt: false, docker: true }), { how: 'container', image: 'img:1' });
  assert.deepEqual(chooseRunner('container', 'img:1', { apt: true, docker: true }), { how: 'container', image: 'img:1' });
  assert.deepEqual(chooseRunner('package', 'img:1', { apt: false, docker: true }), { how: 'package' });
  assert.match((chooseRunner('auto', 'img:1', { apt: false, docker: false }) as { problem: string }).problem, /no apt-get .* and no docker/);
});

test('with the crypt keys the remote holds no byte of a marker written into a tar item, nor a set name, and a fetch decrypts what verifies', async () => {
  const f = fixture();
  const own = '20261120_020000';
  const copy = '20261120_020012';
  writeSet(f.root, own, f.marker);
  writeSet(path.join(f.root, 'copies', GW), copy, f.marker, GW);
  // The fixture is honest: the tar item holds the marker's bytes as they are.
  assert.ok(readFileSync(path.join(f.root, own, 'volume-files.tar')).includes(Buffer.from(f.marker)));

  const first = await f.run();
  assert.equal(status(first), 'changed', messages(first));
  assert.ok(filesUnder(f.remote).length >= 6, `the sets' files are on the remote: ${filesUnder(f.remote).join(', ')}`);
  assert.deepEqual(filesHolding(f.remote, [f.marker, own, copy, 'manifest', 'volume-files', 'copies', GW]), [], 'no marker, no set, item or host name on the remote');
  assert.match(messages(first), /copy 2 verified sets to rigger-offsite-crypt: \(2 new\)/);

  // rclone's config is the only place the keys are, obscured, 0600; no output holds them in any form.
  assert.equal(statSync(f.config).mode & 0o777, 0o600);
  const cfg = readFileSync(f.config, 'utf8');
  assert.deepEqual(leaks(cfg, [f.password, f.salt]), [], 'the config holds the obscured keys only');
  assert.deepEqual(leaks(JSON.stringify(first.events), [f.password, f.salt, obscure(f.password), obscure(f.salt)]), []);

  // Through the crypt remote the remote mirrors the root.
  const listed = execFileSync('rclone', ['--config', f.config, 'lsf', '-R', '--files-only', 'rigger-offsite-crypt:'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.ok(listed.includes(`${own}/volume-files.tar`) && listed.includes(`copies/${GW}/${copy}/manifest.json`), listed.join('\n'));

  const again = await f.run();
  assert.equal(status(again), 'ok', messages(again));
  assert.equal(status(again, 'rclone config'), 'ok', 'the same keys write the same config');

  // Fetched back, decrypted, into a root that lost everything.
  const into = path.join(f.dir, 'new-root');
  const ownFetch = await f.fetch(undefined, 'latest', into);
  assert.equal(status(ownFetch, 'fetch'), 'changed', messages(ownFetch));
  const got = ownFetch.got!;
  assert.equal(got.set, own);
  assert.equal(got.dir, path.join(into, `${own}.partial`));
  assert.ok(setVerifies(got.dir), 'every item has its checksum');
  assert.ok(execFileSync('tar', ['-xOf', path.join(got.dir, 'volume-files.tar')]).includes(Buffer.from(f.marker)), 'the tar item decrypted');

  const gwFetch = await f.fetch(GW, '20261120_020000', into);
  const gwGot = gwFetch.got!;
  assert.equal(status(gwFetch, 'fetch'), 'changed', messages(gwFetch));
  assert.equal(gwGot?.dir, path.join(into, 'copies', GW, `${copy}.partial`), "a named set takes the host's nearest one, into the copy layout");
  assert.ok(setVerifies(gwGot.dir));
});

test('one crypt key without the other is refused before rclone runs', async () => {
  const f = fixture();
  writeSet(f.root, '20261120_020000', f.marker);
  const o = await f.run({ crypt: 'password-only' });
  assert.equal(status(o, 'rclone installed'), 'failed');
  assert.match(messages(o), /give both backup_offsite_crypt_password and backup_offsite_crypt_salt/);
  assert.deepEqual(filesUnder(f.remote), []);
});

// Only `last` counts in this rule: the other counts zero for every kind.
const lastOnly = (n: number) => Object.fromEntries(['postgres', 'gitea', 'volume', 'config'].map((k) => [k, { last: n, daily: 0, weekly: 0, monthly: 0 }]));

test("retention of copies/HOST on the remote follows that host's rules over the remote's own verified copies, and max_delete counts the whole run", async () => {
  const f = fixture();
  const remoteCopies = path.join(f.remote, 'copies', GW);
  for (const s of ['20261101_020000', '20261102_020000', '20261103_020000']) writeSet(remoteCopies, s, f.marker, GW);
  for (const s of ['20261101_020010', '20261102_020010']) writeSet(f.remote, s, f.marker);
  writeSet(f.root, '20261104_020010', f.marker);
  // The copy host's disk holds only tonight's copy of gw's sets.
  writeSet(path.join(f.root, 'copies', GW), '20261104_020000', f.marker, GW);

  // Own sets keep 2 (one deletion), gw keeps 1 (two deletions once tonight's is verified there; none this run).
  const first = await f.run({ crypt: false, retention: lastOnly(2), gwRetention: lastOnly(1) });
  assert.equal(status(first), 'changed', messages(first));
  assert.deepEqual(setsIn(remoteCopies), ['20261101_020000', '20261102_020000', '20261103_020000', '20261104_020000'], "nothing of gw's deleted before its newest copy is verified there");
  assert.deepEqual(setsIn(f.remote), ['20261102_020010', '20261104_020010'], 'own sets: the oldest deleted (a newer kept one was verified there)');

  // Now three of gw's copies go: more than max_delete 2 refuses the whole run.
  const capped = await f.run({ crypt: false, retention: lastOnly(2), gwRetention: lastOnly(1), maxDelete: 2 });
  assert.equal(status(capped), 'failed');
  assert.match(messages(capped), new RegExp(`it would delete 3 sets on .*, more than max_delete 2 \\(copies/${GW}/20261101_020000, copies/${GW}/20261102_020000, copies/${GW}/20261103_020000\\)`));
  assert.equal(setsIn(remoteCopies).length, 4, 'nothing deleted');

  // A copy host whose copies/gw is gone (a replaced disk) deletes none of gw's remote copies for being absent.
  rmSync(path.join(f.root, 'copies'), { recursive: true });
  const replaced = await f.run({ crypt: false, retention: lastOnly(2), gwRetention: lastOnly(4) });
  assert.equal(status(replaced), 'ok', messages(replaced));
  assert.equal(setsIn(remoteCopies).length, 4);
  const raised = await f.run({ crypt: false, retention: lastOnly(2), gwRetention: lastOnly(1), maxDelete: 3 });
  assert.equal(status(raised), 'changed', messages(raised));
  assert.deepEqual(setsIn(remoteCopies), ['20261104_020000']);
});
