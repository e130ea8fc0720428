import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { sshInventory, startSshd } from '../helpers/sshd.ts';
import { eventually, LiveRun } from '../helpers/stream.ts';

const SLOW = 'test/fixtures/playbooks/slow.ts';

test('with one of three hosts killed mid-run, the others finish, the recap shows it unreachable, exit 3', async () => {
  const hosts = await Promise.all([startSshd(), startSshd({ address: '127.0.0.2' }), startSshd({ address: '127.0.0.3' })]);
  try {
    const inv = sshInventory(hosts.map((sshd, i) => ({ name: `node${i + 1}`, sshd })));
    const run = new LiveRun([SLOW, '-i', inv, '--json'], { SLOW_COMMAND: 'sleep 2' });
    await run.waitFor((e) => e.type === 'task-start' && e.task === 'slow');
    hosts[1]!.kill();
    const code = await run.done;
    const recap = run.events.at(-1)!;
    assert.equal(recap.type, 'recap', 'the last line is the recap');
    assert.equal(recap.hosts.node2.unreachable, 1);
    for (const h of ['node1', 'node3']) {
      assert.equal(recap.hosts[h].unreachable, 0);
      assert.equal(recap.hosts[h].failed, 0);
      assert.ok(run.events.some((e) => e.type === 'task-host' && e.task === 'after' && e.host === h && e.status === 'changed'), `${h} finished`);
    }
    assert.ok(!run.events.some((e) => e.type === 'task-host' && e.task === 'after' && e.host === 'node2'));
    assert.equal(code, 3);
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
  }
});

function remoteTemps(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('rigger.'));
}

function running(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern]);
    return true;
  } catch {
    return false;
  }
}

test('Ctrl-C during a long remote command: exit 130, recap printed, no remote process or temp file left', async () => {
  const sshd = await startSshd();
  // Unique per run, so a process left by some other run cannot satisfy or spoil the checks.
  const marker = `sleep 3117.${process.pid}`;
  const tempsBefore = remoteTemps();
  try {
    const inv = sshInventory([{ name: 'h1', sshd }]);
    const run = new LiveRun([SLOW, '-i', inv, '--json'], { SLOW_COMMAND: marker });
    await run.waitFor((e) => e.type === 'task-start' && e.task === 'slow');
    await eventually(() => running(marker), 10_000, 'the remote command to start');
    assert.ok(remoteTemps().length > tempsBefore.length, 'the wrapper holds its payload in a temp dir while running');
    run.child.kill('SIGINT');
    const code = await run.done;
    assert.equal(code, 130);
    assert.equal(run.events.at(-1)!.type, 'recap');
    assert.ok(run.events.some((e) => e.type === 'interrupted'));
    await eventually(() => !running(marker), 10_000, 'the remote command to be killed');
    await eventually(() => remoteTemps().length === tempsBefore.length, 10_000, 'the remote temp dir to be removed');
    assert.deepEqual(remoteTemps().sort(), tempsBefore.sort());
  } finally {
    await sshd.stop();
  }
});
