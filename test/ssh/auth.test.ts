import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { sh } from '../../lib/shell/command.ts';
import { UnreachableError } from '../../lib/shell/errors.ts';
import { defaultSshOptions, SshTransport } from '../../lib/transport/ssh.ts';
import { freePort, startSshd } from '../helpers/sshd.ts';
import { eventually } from '../helpers/stream.ts';
import { existsSync } from 'node:fs';

test('authenticates through ssh-agent when no key file is given', async () => {
  const sshd = await startSshd();
  const sock = path.join(sshd.dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  const saved = process.env.SSH_AUTH_SOCK;
  try {
    await eventually(() => existsSync(sock), 5000, 'the agent socket');
    execFileSync('ssh-add', [sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    process.env.SSH_AUTH_SOCK = sock;
    const t = new SshTransport({ name: 'h', address: sshd.address, port: sshd.port, user: sshd.user }, defaultSshOptions(sshd.knownHostsFile, 'strict'));
    assert.equal((await t.exec(sh`echo via-agent`)).stdout.toString(), 'via-agent\n');
    await t.close();
    assert.match(sshd.log(), /Accepted publickey/);
  } finally {
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
    agent.kill();
    await sshd.stop();
  }
});

test('a host that refuses connections is unreachable after a bounded number of attempts', async () => {
  const port = await freePort();
  const options = { ...defaultSshOptions('/dev/null', 'strict'), connectAttempts: 3 };
  const t = new SshTransport({ name: 'gone', address: '127.0.0.1', port, user: 'root' }, options);
  const started = Date.now();
  await assert.rejects(t.exec(sh`true`), (e: unknown) => e instanceof UnreachableError && /ECONNREFUSED/.test(e.message));
  // Backoff 250 ms then 500 ms between the three attempts: bounded, and it stops by itself.
  assert.ok(Date.now() - started < 5000);
  await t.close();
});
