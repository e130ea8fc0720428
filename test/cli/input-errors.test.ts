import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encryptValue } from '../../lib/shell/vault.ts';
import { runCli } from '../helpers/cli.ts';

const PING = 'test/fixtures/playbooks/ping.ts';

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), 'rigger-input-'));
}

/** An inventory with one !vault value, so the passphrase is needed to load it. */
function vaultInventory(dir: string, pass: string): string {
  const inv = path.join(dir, 'hosts.yml');
  writeFileSync(inv, `all:\n  vars:\n    ansible_connection: local\n    token: !vault ${encryptValue('tok', pass)}\n  hosts:\n    a:\n`);
  return inv;
}

test('a vault password file that is a directory, missing, or open to others is refused, naming its path (exit 4)', async () => {
  const dir = scratch();
  const inv = vaultInventory(dir, 'pw-1');
  const asDir = path.join(dir, 'pass-dir');
  mkdirSync(asDir);
  const r1 = await runCli([PING, '-i', inv, '--list-hosts', '--vault-password-file', asDir]);
  assert.equal(r1.code, 4);
  assert.match(r1.stderr, new RegExp(`^rigger: .*hosts\\.yml:4:19: vault password file ${asDir} is a directory, not a file\\n$`));
  assert.doesNotMatch(r1.stderr, /EISDIR/);
  const missing = path.join(dir, 'nope');
  const r2 = await runCli([PING, '-i', inv, '--list-hosts', '--vault-password-file', missing]);
  assert.equal(r2.code, 4);
  assert.match(r2.stderr, new RegExp(`vault password file ${missing} does not exist`));
  const open = path.join(dir, 'pass');
  writeFileSync(open, 'pw-1\n');
  chmodSync(open, 0o644);
  const r3 = await runCli([PING, '-i', inv, '--list-hosts', '--vault-password-file', open]);
  assert.equal(r3.code, 4);
  assert.match(r3.stderr, new RegExp(`vault password file ${open} is open to group or others \\(mode 0644\\); run \`chmod 600 ${open}\`, or pass --vault-password-file-any-mode`));
  const anyMode = await runCli([PING, '-i', inv, '--list-hosts', '--vault-password-file', open, '--vault-password-file-any-mode']);
  assert.equal(anyMode.code, 0, anyMode.stderr);
  chmodSync(open, 0o600);
  const ok = await runCli([PING, '-i', inv, '--list-hosts', '--vault-password-file', open]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /PLAY \[ping\] \(1 hosts\)\na\n/);
});

test('--tags or --skip-tags naming no task warn with the playbook\'s tags', async () => {
  const inv = path.join(scratch(), 'hosts.yml');
  writeFileSync(inv, 'all:\n  vars:\n    ansible_connection: local\n  hosts:\n    a:\n');
  const none = await runCli(['test/fixtures/playbooks/skip-all.ts', '-i', inv, '--tags', 'deploy']);
  assert.equal(none.code, 0);
  assert.match(none.stdout, /^WARNING: --tags deploy: no task has this tag; no task is selected, nothing will run \(the playbook's tags: setup\)$/m);
  const skip = await runCli(['test/fixtures/playbooks/skip-all.ts', '-i', inv, '--skip-tags', 'stup']);
  assert.equal(skip.code, 0);
  assert.match(skip.stdout, /^WARNING: --skip-tags stup: no task has this tag \(the playbook's tags: setup\)$/m);
  const fine = await runCli(['test/fixtures/playbooks/skip-all.ts', '-i', inv, '--tags', 'setup']);
  assert.equal(fine.code, 0);
  assert.doesNotMatch(fine.stdout, /WARNING/);
});

test('a playbook that throws while imported: one line with its file:line, exit 4; the stack only at -vvv', async () => {
  const r = await runCli(['test/fixtures/playbooks/throws-on-import.ts', '--list-hosts']);
  assert.equal(r.code, 4);
  assert.equal(r.stderr, 'rigger: the playbook failed while loading: test/fixtures/playbooks/throws-on-import.ts:5:23: no role named web\n');
  assert.equal(r.stdout, '');
  const verbose = await runCli(['test/fixtures/playbooks/throws-on-import.ts', '-vvv']);
  assert.equal(verbose.code, 4);
  assert.match(verbose.stderr, /^rigger: the playbook failed while loading: test\/fixtures\/playbooks\/throws-on-import\.ts:5:23: no role named web\nError: no role named web\n +at .*throws-on-import\.ts:5:23/);
});

test('--forks -1 is refused in rigger\'s words, not the argument parser\'s (exit 4)', async () => {
  for (const args of [['--forks', '-1'], ['-f', '-1'], ['--forks=-1']]) {
    const r = await runCli([PING, ...args]);
    assert.equal(r.code, 4);
    assert.equal(r.stderr, 'rigger: command line: --forks must be an integer from 1 to 1000, got "-1"\n', args.join(' '));
  }
  const r = await runCli([PING, '--limit', '-web']);
  assert.equal(r.code, 4);
  assert.equal(r.stderr, 'rigger: command line: --limit needs a value; for a value that starts with a dash write --limit=VALUE (see --help)\n');
});
