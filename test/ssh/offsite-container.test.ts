import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { definePlay, ops } from '../../lib/index.ts';
import { encryptValue } from '../../lib/shell/vault.ts';
import { backupVars } from '../../lib/backup/config.ts';
import { obscure } from '../../lib/backup/rclone-obscure.ts';
import { offsiteSetup } from '../../lib/backup/offsite-setup.ts';
import * as recoveryOps from '../../lib/recovery/ops/index.ts';
import type { FetchedSet } from '../../lib/recovery/ops/index.ts';
import { runCli } from '../helpers/cli.ts';
import { dockerStandIn } from '../helpers/docker-standin.ts';
import { filesHolding, filesUnder, setVerifies, writeSet } from '../helpers/offsite-sets.ts';
import { runPlays } from '../helpers/run.ts';
import { leaks } from '../helpers/secret-forms.ts';
import { startSshd, sshInventory } from '../helpers/sshd.ts';
import { EXECVE_TRACE, programsStarted } from '../helpers/strace.ts';

// The off-site copy over SSH on a host that runs rclone from its image
// (backup_rclone: container, as on DSM where there is no apt), encrypted:
// `backup.ts --offsite` as a user runs it, every program the sshd started
// traced with its full argv. Docker is a stand-in (test/helpers/docker-standin.ts:
// it runs this machine's rclone with the arguments after the image, refusing
// paths the call does not mount); the lab runs the real one.

const rand = () => Math.random().toString(36).slice(2, 10);
// runPlays reads test inventories with the passphrase 'test'.
const PASS = 'test';
const IMAGE = 'rclone/rclone:1.75.2';

/** strace on the sshd and every session it forks: each program's argv, in full. */
async function traceSshd(pidFile: string, out: string): Promise<() => Promise<string>> {
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const child = spawn('strace', [...EXECVE_TRACE, '-s', '65536', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
  // Attached once the kernel names a tracer for the sshd.
  while (!/TracerPid:\s+[1-9]/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) await new Promise((r) => setTimeout(r, 50));
  return async () => {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    return readFileSync(out, 'utf8');
  };
}

test('container rclone over SSH: no apt, the image through docker with only the named paths mounted, encrypted, and the keys in no argv nor output', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'offsite-container-'));
  const dockerLog = path.join(work, 'docker.log');
  const bin = dockerStandIn(work, dockerLog);
  const sshd = await startSshd({ env: { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` } });
  try {
    const root = path.join(work, 'backup');
    const remote = path.join(work, 'offsite');
    // A path remote is a mounted disk, so it exists: in the container it is a bind mount, which refuses a missing source
    // (rather than making an empty directory on the host's own disk, as -v would).
    mkdirSync(remote);
    const config = path.join(work, 'etc', 'rclone.conf');
    const marker = `OFFSITE-MARKER-${rand()}`;
    const password = `pw-${rand()}-${rand()}`;
    const salt = `salt-${rand()}-${rand()}`;
    writeSet(root, '20261120_020000', marker);
    writeSet(path.join(root, 'copies', 'gw.vibe.local'), '20261120_020007', marker, 'gw.vibe.local');
    const vars = (r: string) => [
      `backup_root: ${r}`,
      'backup_items: [{ kind: volume, volume: files }]',
      'backup_rclone: container',
      `backup_rclone_image: ${IMAGE}`,
      `backup_rclone_config: ${config}`,
      `backup_offsite: { remote: ${remote}, max_delete: 5 }`,
      `backup_offsite_crypt_password: !vault ${encryptValue(password, PASS)}`,
      `backup_offsite_crypt_salt: !vault ${encryptValue(salt, PASS)}`,
    ];
    const inventory = sshInventory([{ name: 'nas', sshd, vars: vars(root) }]);

    const stop = await traceSshd(path.join(sshd.dir, 'sshd.pid'), path.join(work, 'trace.log'));
    const run = await runCli(['playbooks/backup.ts', '-i', inventory, '--offsite', '-vvv', '--diff'], { RIGGER_VAULT_PASSWORD: PASS }, 300_000);
    const trace = await stop();
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.code, 0, output);

    const programs = programsStarted(trace);
    assert.ok(programs.includes('docker') && programs.includes('rclone'), `rclone ran through docker: ${[...new Set(programs)].join(' ')}`);
    assert.deepEqual(programs.filter((p) => /^(apt|apt-get|dpkg)$/.test(p)), [], 'no apt');
    const calls = readFileSync(dockerLog, 'utf8').split('\n').filter(Boolean);
    const runs = calls.filter((c) => c.startsWith('run '));
    assert.ok(runs.length >= 3, calls.join('\n'));
    for (const c of runs) {
      assert.ok(c.startsWith(`run --rm --network host --entrypoint rclone --mount type=bind,source=${config},target=${config},readonly `), c);
      assert.ok(c.includes(` ${IMAGE} --config ${config} `), c);
    }
    assert.ok(runs.some((c) => c.includes(` --mount type=bind,source=${root},target=${root} `) && / copy --filter-from /.test(c)), 'the copy mounts the backup root');

    assert.deepEqual(leaks(trace, [password, salt, obscure(password), obscure(salt)]), [], 'no key in any argv');
    assert.deepEqual(leaks(output, [password, salt, obscure(password), obscure(salt)]), [], 'no key in the output');
    assert.ok(filesUnder(remote).length >= 6);
    assert.deepEqual(filesHolding(remote, [marker, '20261120', 'gw.vibe.local', 'manifest']), [], 'the remote holds neither the marker nor a name');

    // Fetched back through the same runner (the image), decrypted, on a host whose disk is new.
    const into = path.join(work, 'new-root');
    mkdirSync(into);
    let got: FetchedSet | undefined;
    const fetched = await runPlays(sshInventory([{ name: 'nas', sshd, vars: vars(into) }]), [
      definePlay({
        name: 'fetch',
        hosts: 'nas',
        schema: backupVars,
        tasks: ({ task }) => {
          const fetch = task({
            name: 'fetch',
            op: (h) => {
              const s = offsiteSetup(h.vars, { apt: true, docker: true });
              if ('problem' in s) throw new Error(s.problem);
              return recoveryOps.offsiteFetch({ root: h.vars.backup_root, rootCreate: true, access: s.access, host: 'gw.vibe.local', set: 'latest' });
            },
          });
          return [fetch, task({ name: 'keep', op: (h) => ((got = h.result(fetch)), ops.assert({ that: true, message: 'kept' })) })];
        },
      }),
    ]);
    assert.equal(fetched.statuses.get('fetch')?.get('nas'), 'changed', fetched.events.map((e) => JSON.stringify(e)).join('\n'));
    assert.equal(got?.dir, path.join(into, 'copies', 'gw.vibe.local', '20261120_020007.partial'));
    assert.ok(existsSync(got!.dir) && setVerifies(got!.dir), 'decrypted, every checksum as the manifest says');
    assert.ok(readFileSync(path.join(got!.dir, 'volume-files.tar')).includes(Buffer.from(marker)));
  } finally {
    await sshd.stop();
  }
});
