import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { defaultSshOptions, SshTransport } from '../../lib/transport/ssh.ts';
import { startSshd, type TestSshd } from '../helpers/sshd.ts';
import { createSudoUser, SUDO_USER } from '../helpers/sudo-user.ts';

const PASSWORD = `sudo-pw-${process.pid}`;
let sshd: TestSshd;
let cleanup: () => void;

before(async () => {
  cleanup = createSudoUser(PASSWORD);
  sshd = await startSshd();
});
after(async () => {
  await sshd.stop();
  cleanup();
});

function asUser() {
  return new SshTransport({ name: 'h', address: sshd.address, port: sshd.port, user: SUDO_USER, privateKeyFile: sshd.clientKey }, defaultSshOptions(sshd.knownHostsFile, 'strict'));
}

test('become with a sudo password: the command runs as root and its stdin payload arrives intact', async () => {
  const t = asUser();
  try {
    assert.equal((await t.exec(sh`id -un`)).stdout.toString().trim(), SUDO_USER);
    const become = { user: 'root', password: new Secret(PASSWORD) };
    const r = await t.exec(sh`id -un; cat`.withStdin('payload\nbytes\'"$'), { become });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'root\npayload\nbytes\'"$');
    assert.ok(!r.stderr.toString().includes('rigger-sudo') && !r.stderr.toString().includes('rigger-ready'), 'markers are stripped');
    // Several at once on one connection, each with its own sudo handshake.
    const many = await Promise.all(Array.from({ length: 6 }, (_, i) => t.exec(sh`echo ${i}; id -u`, { become })));
    assert.deepEqual(many.map((m) => m.stdout.toString()), Array.from({ length: 6 }, (_, i) => `${i}\n0\n`));
  } finally {
    await t.close();
  }
});

test('a wrong sudo password fails at once instead of hanging on a second prompt', async () => {
  const t = asUser();
  try {
    const started = Date.now();
    const r = await t.exec(sh`id -un`, { become: { user: 'root', password: new Secret('not-the-password') } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.toString(), /password was refused/);
    assert.ok(Date.now() - started < 15_000);
  } finally {
    await t.close();
  }
});

test('become without a password where sudo needs one says so', async () => {
  const t = asUser();
  try {
    const r = await t.exec(sh`id -un`, { become: { user: 'root' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.toString(), /password is required/);
  } finally {
    await t.close();
  }
});

test('a play with become uses the inventory password; the file is written as root; the password never shows', async () => {
  const { sshInventory } = await import('../helpers/sshd.ts');
  const { runPlays, scratchDir } = await import('../helpers/run.ts');
  const { definePlay, ops } = await import('../../lib/index.ts');
  const { statSync, readFileSync, chmodSync } = await import('node:fs');
  const dir = scratchDir();
  chmodSync(dir, 0o755);
  const inv = sshInventory([{ name: 'h1', sshd, vars: [`ansible_user: ${SUDO_USER}`, `ansible_become_password: ${PASSWORD}`] }]);
  const play = definePlay({
    name: 'as root',
    hosts: 'all',
    become: true,
    tasks: ({ task }) => [task({ name: 'root file', op: ops.copy({ path: `${dir}/by-root`, content: 'x', mode: '0600' }) })],
  });
  const o = await runPlays(inv, [play], { verbosity: 3 });
  assert.equal(o.summary.exitCode, 0, JSON.stringify(o.events.filter((e) => e.type === 'task-host')));
  // Logged in as the unprivileged user: a root-owned file can only come from sudo.
  assert.equal(statSync(`${dir}/by-root`).uid, 0);
  assert.equal(readFileSync(`${dir}/by-root`, 'utf8'), 'x');
  assert.ok(!JSON.stringify(o.events).includes(PASSWORD));
});
