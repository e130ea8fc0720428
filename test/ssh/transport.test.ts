import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sh } from '../../lib/shell/command.ts';
import { HostKeyError } from '../../lib/shell/errors.ts';
import { fingerprint } from '../../lib/transport/known-hosts.ts';
import { defaultSshOptions, SshTransport } from '../../lib/transport/ssh.ts';
import { hostileStrings } from '../helpers/hostile.ts';
import { startSshd, type TestSshd } from '../helpers/sshd.ts';

let sshd: TestSshd;
before(async () => {
  sshd = await startSshd();
});
after(async () => sshd.stop());

function transport(s: TestSshd, knownHosts = s.knownHostsFile, mode: 'strict' | 'accept-new' | 'off' = 'strict') {
  return new SshTransport({ name: 'h', address: s.address, port: s.port, user: s.user, privateKeyFile: s.clientKey }, defaultSshOptions(knownHosts, mode));
}

test('200 hostile strings round-trip byte for byte through the command builder and a real sshd; the canary is never created', async () => {
  const canary = path.join(sshd.dir, 'CANARY');
  const values = hostileStrings(canary);
  assert.equal(values.length, 200);
  const t = transport(sshd);
  try {
    const results = await Promise.all(
      values.map(async (value) => {
        const asArg = await t.exec(sh`printf '%s' ${value}`);
        const asStdin = await t.exec(sh`cat`.withStdin(value));
        return { value, asArg, asStdin };
      }),
    );
    for (const { value, asArg, asStdin } of results) {
      assert.equal(asArg.code, 0, `exit for ${JSON.stringify(value.toString('latin1'))}: ${asArg.stderr}`);
      assert.deepEqual(asArg.stdout, value, `argv round trip of ${JSON.stringify(value.toString('latin1'))}`);
      assert.deepEqual(asStdin.stdout, value, `stdin round trip of ${JSON.stringify(value.toString('latin1'))}`);
    }
    assert.equal(existsSync(canary), false, 'no value was executed');
    assert.equal(t.connectionsMade, 1, 'one connection for all 400 commands');
  } finally {
    await t.close();
  }
});

test('at most 8 commands run at once on one connection, measured on the host', async () => {
  const t = transport(sshd);
  const slots = path.join(sshd.dir, 'slots');
  try {
    await t.exec(sh`mkdir -p ${slots}`);
    // Each command takes the lowest free slot directory (mkdir is atomic) while it runs.
    const taken = await Promise.all(
      Array.from({ length: 40 }, () =>
        t.exec(sh`d=${slots}; i=0; while ! mkdir "$d/$i" 2>/dev/null; do i=$((i+1)); done; sleep 0.05; rmdir "$d/$i"; echo $i`),
      ),
    );
    const maxConcurrent = Math.max(...taken.map((r) => Number(r.stdout.toString()))) + 1;
    assert.ok(maxConcurrent <= 8, `at most 8 at once, saw ${maxConcurrent}`);
    assert.ok(maxConcurrent >= 4, `commands really ran in parallel, saw ${maxConcurrent}`);
    assert.equal(t.connectionsMade, 1);
  } finally {
    await t.close();
  }
});

test('a remote non-zero exit is returned, not retried, and stderr is kept apart', async () => {
  const t = transport(sshd);
  const counter = path.join(sshd.dir, 'count');
  try {
    const r = await t.exec(sh`echo x >> ${counter}; echo out; echo err >&2; exit 7`);
    assert.equal(r.code, 7);
    assert.equal(r.stdout.toString(), 'out\n');
    assert.equal(r.stderr.toString(), 'err\n');
    assert.equal(readFileSync(counter, 'utf8'), 'x\n', 'ran exactly once');
  } finally {
    await t.close();
  }
});

function connectionLog(s: TestSshd, fromLine: number): string[] {
  return s.log().split('\n').slice(fromLine);
}

test('a host key mismatch is refused before authentication, with both fingerprints', async () => {
  const other = await startSshd();
  try {
    // known_hosts pins the other sshd's key for this sshd's address:port.
    const wrong = path.join(sshd.dir, 'known_hosts_wrong');
    const [type, b64] = other.hostPublicKey.split(/\s+/);
    writeFileSync(wrong, `[${sshd.address}]:${sshd.port} ${type} ${b64}\n`);
    const logStart = sshd.log().split('\n').length - 1;
    const t = transport(sshd, wrong);
    await assert.rejects(t.exec(sh`true`), (err: unknown) => {
      assert.ok(err instanceof HostKeyError);
      const presented = fingerprint(Buffer.from(sshd.hostPublicKey.split(/\s+/)[1]!, 'base64'));
      const expected = fingerprint(Buffer.from(b64!, 'base64'));
      assert.ok(err.message.includes(presented), 'shows the presented key');
      assert.ok(err.message.includes(expected), 'shows the expected key');
      assert.match(err.message, /HOST KEY MISMATCH/);
      return true;
    });
    await t.close();
    // sshd saw the connection but no authentication attempt of any kind.
    const deadline = Date.now() + 5000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = connectionLog(sshd, logStart);
      if (lines.some((l) => /Connection (from|closed|reset)|disconnect/i.test(l))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(lines.some((l) => /Connection from/.test(l)), `sshd saw the connection:\n${lines.join('\n')}`);
    assert.ok(!lines.some((l) => /userauth|Accepted|Failed|Postponed|authentication/i.test(l)), `no auth attempt:\n${lines.join('\n')}`);
  } finally {
    await other.stop();
  }
});

test('an unknown host key is refused in strict mode and recorded in accept-new mode', async () => {
  const empty = path.join(sshd.dir, 'known_hosts_empty');
  writeFileSync(empty, '');
  const strict = transport(sshd, empty, 'strict');
  await assert.rejects(strict.exec(sh`true`), (e: unknown) => e instanceof HostKeyError && /unknown host key/.test(e.message));
  await strict.close();
  assert.equal(readFileSync(empty, 'utf8'), '', 'strict mode wrote nothing');
  const acceptNew = transport(sshd, empty, 'accept-new');
  assert.equal((await acceptNew.exec(sh`echo ok`)).stdout.toString(), 'ok\n');
  await acceptNew.close();
  const recorded = readFileSync(empty, 'utf8');
  assert.ok(recorded.startsWith(`[${sshd.address}]:${sshd.port} ssh-ed25519 ${sshd.hostPublicKey.split(/\s+/)[1]}`), recorded);
  const again = transport(sshd, empty, 'strict');
  assert.equal((await again.exec(sh`echo ok`)).code, 0, 'the recorded key is trusted afterwards');
  await again.close();
});

test('ProxyJump reaches a host through a bastion', async () => {
  const target = await startSshd({ clientKey: sshd.clientKey });
  try {
    const known = path.join(sshd.dir, 'known_hosts_jump');
    writeFileSync(known, readFileSync(sshd.knownHostsFile, 'utf8') + readFileSync(target.knownHostsFile, 'utf8'));
    const t = new SshTransport(
      {
        name: 'behind',
        address: target.address,
        port: target.port,
        user: target.user,
        privateKeyFile: target.clientKey,
        jump: { name: 'bastion', address: sshd.address, port: sshd.port, user: sshd.user, privateKeyFile: sshd.clientKey },
      },
      defaultSshOptions(known, 'strict'),
    );
    const r = await t.exec(sh`echo "$SSH_CONNECTION"`);
    await t.close();
    assert.equal(r.code, 0);
    // The target sees the connection coming from the bastion's forwarding, and the bastion logs a direct-tcpip open.
    assert.match(r.stdout.toString(), new RegExp(`${target.port}\\s*$`));
    assert.match(sshd.log(), /direct-tcpip|server_request_direct_tcpip/);
  } finally {
    await target.stop();
  }
});
