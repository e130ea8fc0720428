import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sh } from '../../lib/shell/command.ts';
import { encryptValue } from '../../lib/shell/vault.ts';
import { readDumpLocally } from '../../lib/recovery/local-read.ts';
import { LocalTransport } from '../../lib/transport/local.ts';
import { runCli } from '../helpers/cli.ts';
import { createSudoUser, SUDO_USER } from '../helpers/sudo-user.ts';
import { leaks } from '../helpers/secret-forms.ts';

/** A local inventory with one !vault value, so the run really needs the passphrase. */
function vaultedLocalInventory(passphrase: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'local-conn-inv-'));
  const file = path.join(dir, 'hosts.yml');
  writeFileSync(file, `all:\n  vars:\n    ansible_connection: local\n    db_password: !vault ${encryptValue('db-pw-value', passphrase)}\n  hosts:\n    here:\n`);
  return file;
}

/** A directory every user may write to, for a task run as nobody. */
function dumpDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'local-conn-dump-'));
  chmodSync(dir, 0o777);
  return dir;
}

test('item 10: a local task does not see the vault passphrase nor any other rigger secret variable in its environment', async () => {
  const passphrase = `vault-pass-${Math.random().toString(36).slice(2)}-"q' $x`;
  const dir = dumpDir();
  const secretsDir = mkdtempSync(path.join(tmpdir(), 'outer-rigger-secrets-'));
  const r = await runCli(['test/fixtures/playbooks/local-identity.ts', '-i', vaultedLocalInventory(passphrase), '-v'], {
    DUMP_DIR: dir,
    RIGGER_VAULT_PASSWORD: passphrase,
    // rigger itself run from a command given secrets: its own tasks must not inherit them either.
    RIGGER_SECRETS: secretsDir,
    KEPT_FOR_THE_TASK: 'yes',
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const env = readFileSync(path.join(dir, 'env'), 'utf8');
  const names = env.split('\n').map((l) => l.slice(0, l.indexOf('=')));
  assert.ok(names.includes('KEPT_FOR_THE_TASK') && names.includes('PATH'), `the task sees the rest of the controller's environment:\n${env}`);
  for (const name of ['RIGGER_VAULT_PASSWORD', 'RIGGER_VAULT_PASSWORD_FILE', 'RIGGER_SECRETS']) assert.ok(!names.includes(name), `${name} is not passed on:\n${env}`);
  assert.deepEqual(leaks(env, [passphrase]), [], 'the passphrase is in the task environment in no form');
  assert.ok(!env.includes(secretsDir));
  assert.deepEqual(leaks(r.stdout + r.stderr, [passphrase]), []);
});

test('item 10: a passphrase given by file is not named to a local task either', async () => {
  const passphrase = `vault-pass-${Math.random().toString(36).slice(2)}`;
  const dir = dumpDir();
  const passFile = path.join(mkdtempSync(path.join(tmpdir(), 'local-conn-pass-')), 'pass');
  writeFileSync(passFile, passphrase, { mode: 0o600 });
  const r = await runCli(['test/fixtures/playbooks/local-identity.ts', '-i', vaultedLocalInventory(passphrase)], { DUMP_DIR: dir, RIGGER_VAULT_PASSWORD_FILE: passFile });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const env = readFileSync(path.join(dir, 'env'), 'utf8');
  assert.ok(!env.includes('RIGGER_VAULT_PASSWORD_FILE=') && !env.includes(passFile), env);
});

test('item 10: the pg_restore a recovery reads a dump with on the controller does not see the vault passphrase', async () => {
  const dir = dumpDir();
  // A stand-in pg_restore that reads the dump and writes down its environment (the real one cannot show it).
  const bin = mkdtempSync(path.join(tmpdir(), 'pg-restore-'));
  writeFileSync(path.join(bin, 'pg_restore'), `#!/bin/sh\nif [ "$1" = --version ]; then echo 'pg_restore (stand-in) 16'; exit 0; fi\ncat > /dev/null\ntr '\\0' '\\n' < /proc/$$/environ > '${dir}/env'\n`, { mode: 0o755 });
  const dump = path.join(dir, 'db.dump');
  writeFileSync(dump, 'dump bytes');
  const saved = { PATH: process.env.PATH, RIGGER_VAULT_PASSWORD: process.env.RIGGER_VAULT_PASSWORD };
  process.env.PATH = `${bin}:${process.env.PATH}`;
  process.env.RIGGER_VAULT_PASSWORD = 'the-passphrase-of-this-run';
  const t = new LocalTransport('here');
  try {
    const r = await readDumpLocally({ run: (c) => t.exec(c), check: (c) => t.exec(c), stream: (c, sink) => t.exec(c, { stdoutTo: sink }) }, dump);
    assert.ok(r.ok, r.detail);
    const env = readFileSync(path.join(dir, 'env'), 'utf8');
    assert.match(env, /^PATH=/m);
    assert.doesNotMatch(env, /RIGGER_VAULT_PASSWORD|the-passphrase-of-this-run/);
  } finally {
    await t.close();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

test('item 13: as root, become nobody on the local connection runs the task as nobody', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root, as the test machine does (.ci/run)');
  const dir = dumpDir();
  const r = await runCli(['test/fixtures/playbooks/local-identity.ts', '-i', vaultedLocalInventory('p')], { DUMP_DIR: dir, BECOME_USER: 'nobody', RIGGER_VAULT_PASSWORD: 'p' });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(readFileSync(path.join(dir, 'user'), 'utf8'), 'nobody\n');
});

test('item 13: the local transport switches user for become, keeps stdin, and fails for a user that does not exist', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root, as the test machine does (.ci/run)');
  const t = new LocalTransport('here');
  try {
    const r = await t.exec(sh`id -un; cat`.withStdin('payload\n\'"$ bytes'), { become: { user: 'nobody' } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'nobody\npayload\n\'"$ bytes');
    const home = await t.exec(sh`printf '%s %s' "$USER" "$HOME"`, { become: { user: 'nobody' } });
    assert.equal(home.stdout.toString(), `nobody ${execHome('nobody')}`, 'the environment names the user switched to');
    // rigger's own environment is not handed to the other user (whose processes can read each other's environ), as sudo resets it.
    process.env.ROOTS_OWN_VARIABLE = 'root-only';
    try {
      const env = await t.exec(sh`env`, { become: { user: 'nobody' } });
      assert.doesNotMatch(env.stdout.toString(), /ROOTS_OWN_VARIABLE/);
      assert.match(env.stdout.toString(), /^PATH=\/usr\/local\/sbin:/m, "sudo's secure path");
      assert.match((await t.exec(sh`env`)).stdout.toString(), /^ROOTS_OWN_VARIABLE=root-only$/m, 'without become the task keeps it');
    } finally {
      delete process.env.ROOTS_OWN_VARIABLE;
    }
    const root = await t.exec(sh`id -un`, { become: { user: 'root' } });
    assert.equal(root.stdout.toString(), 'root\n');
    const missing = await t.exec(sh`id -un`, { become: { user: 'no-such-user-rigger' } });
    assert.notEqual(missing.code, 0, 'an unknown user fails instead of running as root');
    assert.equal(missing.stdout.toString(), '');
    assert.match(missing.stderr.toString(), /no-such-user-rigger/);
  } finally {
    await t.close();
  }
});

function execHome(user: string): string {
  return readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!.split(':')[5]!;
}

test('item 13: not root, become goes through sudo, which fails rather than prompt or run the task as the user rigger runs as', () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root, to start rigger as another user');
  const cleanup = createSudoUser(`sudo-pw-${process.pid}`);
  try {
    // rigger run by a user whose sudo asks for a password.
    const run = (...user: string[]) =>
      JSON.parse(execFileSync('runuser', ['-u', SUDO_USER, '--', 'node_modules/.bin/tsx', 'test/fixtures/local-become-run.ts', ...user], { encoding: 'utf8' })) as { code: number; stdout: string; stderr: string };
    assert.deepEqual(run(), { code: 0, stdout: `${SUDO_USER}\n`, stderr: '' });
    assert.deepEqual(run(SUDO_USER), { code: 0, stdout: `${SUDO_USER}\n`, stderr: '' }, 'become as its own user needs no sudo');
    const toRoot = run('root');
    assert.notEqual(toRoot.code, 0);
    assert.equal(toRoot.stdout, '', 'the task did not run');
    assert.match(toRoot.stderr, /sudo: .*password is required/);
  } finally {
    cleanup();
  }
});

test('review item 1: a YAML inventory with ansible_become: y loads and its tasks run under become; n runs them as the caller', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root, as the test machine does (.ci/run)');
  for (const [word, user] of [['y', 'nobody'], ['Y', 'nobody'], ['n', 'root']] as const) {
    const dir = dumpDir();
    const inventory = path.join(mkdtempSync(path.join(tmpdir(), 'become-word-')), 'hosts.yml');
    writeFileSync(inventory, `all:\n  hosts:\n    here:\n      ansible_connection: local\n      ansible_become: ${word}\n      ansible_become_user: nobody\n`);
    const r = await runCli(['test/fixtures/playbooks/local-identity.ts', '-i', inventory], { DUMP_DIR: dir });
    assert.equal(r.code, 0, `ansible_become: ${word}\n${r.stdout}${r.stderr}`);
    // The environment task takes become from the inventory: its file is owned by whom it ran as.
    const owner = execFileSync('stat', ['-c', '%U', path.join(dir, 'env')]).toString().trim();
    assert.equal(owner, user, `ansible_become: ${word}`);
  }
});
