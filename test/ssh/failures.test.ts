import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive } from '../helpers/interrupt.ts';
import { sshInventory, startSshd, startSshdWithOwnTmp } from '../helpers/sshd.ts';
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

/** Whether any process's command line contains pattern (the command, its wrapper, its login shell). */
function running(pattern: string): boolean {
  return pgrep(pattern);
}

/**
 * Whether a process's whole command line is exactly `command`: the command
 * itself, not the wrapper or login shell whose `sh -c` text merely contains it
 * (those exist before the wrapper has set up the command's input).
 */
function commandRunning(command: string): boolean {
  return pgrep(`^${command.replace(/[.]/g, '\\.')}$`);
}

function pgrep(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern]);
    return true;
  } catch {
    return false;
  }
}

test('Ctrl-C during a long remote command: exit 130, recap printed, no remote process or temp file left', async () => {
  // A host whose TMPDIR is its own: what the wrapper leaves there is this run's.
  const { sshd, remoteTmp } = await startSshdWithOwnTmp('rigger-ctrlc-');
  // Unique per run, so a process left by some other run cannot satisfy or spoil the checks.
  const marker = `sleep 3117.${process.pid}`;
  try {
    const inv = sshInventory([{ name: 'h1', sshd }]);
    const run = new LiveRun([SLOW, '-i', inv, '--json'], { SLOW_COMMAND: marker });
    await run.waitFor((e) => e.type === 'task-start' && e.task === 'slow');
    await eventually(() => commandRunning(marker), 10_000, 'the remote command to start');
    // Issue 27 item 9: the stdin payload is streamed, never staged in a temp dir.
    assert.deepEqual(readdirSync(remoteTmp), [], 'the wrapper holds no payload dir while the command runs');
    run.child.kill('SIGINT');
    const code = await run.done;
    assert.equal(code, 130);
    assert.equal(run.events.at(-1)!.type, 'recap');
    assert.ok(run.events.some((e) => e.type === 'interrupted'));
    await eventually(() => !running(marker), 10_000, 'the remote command to be killed');
    assert.deepEqual(readdirSync(remoteTmp), [], 'nothing is left in the host TMPDIR');
  } finally {
    await sshd.stop();
  }
});

test('README claim, a second Ctrl-C exits at once: exit 130 while a local command ignores the first, the command killed, no temp file left', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-second-ctrl-c-'));
  const ownTmp = path.join(work, 'tmp');
  mkdirSync(ownTmp);
  const pidFile = path.join(work, 'pid');
  const inventory = path.join(work, 'hosts.yml');
  writeFileSync(inventory, 'all:\n  hosts:\n    here:\n      ansible_connection: local\n');
  // The hang: a command that ignores TERM, so the first Ctrl-C's graceful stop cannot end it.
  const hang = `trap '' TERM; echo $$ > ${pidFile}; exec sleep 600`;
  // node itself, not the tsx wrapper, so each signal reaches the controller as a user's Ctrl-C would.
  const child = spawn(process.execPath, ['--import', 'tsx', SLOW, '-i', inventory, '--json'], {
    env: { ...process.env, NO_COLOR: '1', TMPDIR: ownTmp, SLOW_COMMAND: hang },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const events = () => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string });
  try {
    await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 30_000, 'the hanging command to start');
    const hangPid = Number(readFileSync(pidFile, 'utf8'));
    child.kill('SIGINT');
    await eventually(() => events().some((e) => e.type === 'interrupted'), 30_000, 'the first Ctrl-C to start the graceful stop');
    assert.equal(child.exitCode, null, 'the graceful stop is still waiting on the command that ignores TERM');
    child.kill('SIGINT');
    // Bounded far below the hang's 600 s: a controller that waits for it fails here.
    const bound = new AbortController();
    const code = await Promise.race([exited, sleep(60_000, 'still running after the second Ctrl-C', { signal: bound.signal })]);
    bound.abort();
    assert.equal(code, 130, stderr);
    await eventually(() => !alive(hangPid), 10_000, 'the hanging command to be killed');
    // tsx keeps its compile cache there (tsx-UID): the loader's, not a file of the run.
    assert.deepEqual(readdirSync(ownTmp).filter((f) => !/^tsx-\d+$/.test(f)), [], 'no temp file left');
    assert.deepEqual(readdirSync(work).sort(), ['hosts.yml', 'pid', 'tmp']);
  } finally {
    child.kill('SIGKILL');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

