import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sh } from '../../lib/shell/command.ts';
import { FileStdin } from '../../lib/shell/stdin-source.ts';
import type { ExecOptions } from '../../lib/transport/types.ts';
import { alive } from '../helpers/interrupt.ts';
import { startSshd, transportTo, type TestSshd } from '../helpers/sshd.ts';
import { eventually } from '../helpers/stream.ts';

/**
 * Issue 27 item 9's review: a command that is not reading its stdin while
 * more than a pipe's worth of it is still to come blocks the wrapper's
 * sender; the channel closing then must still kill the command (docs/how-it-works.md:
 * "a dead controller leaves nothing running").
 */
let sshd: TestSshd;
let work: string;
before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'rigger-dropped-'));
  sshd = await startSshd();
});
after(async () => sshd.stop());

const transport = () => transportTo(sshd);

/** A command that records its pid, then does not read its stdin for an hour. */
function notReading(pidFile: string) {
  return sh`echo $$ > ${pidFile}; exec sleep 3600`;
}

async function startedPid(pidFile: string): Promise<number> {
  await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 30_000, 'the command to start');
  return Number(readFileSync(pidFile, 'utf8'));
}

const MIB = 1024 * 1024;

test('item 9 review: the channel closed mid-payload (a source cut short, the connection kept) kills the command that was not reading', async () => {
  const pidFile = path.join(work, 'cut.pid');
  // Announced 8 MiB, given 200 KB once the command runs: the controller
  // sends those, finds the source short and closes this channel alone. A
  // FIFO, so that the source ends only after the command has started.
  const source = path.join(work, 'short');
  execFileSync('mkfifo', [source]);
  const t = transport();
  let pid: number | undefined;
  try {
    const running = t.exec(notReading(pidFile).withStdin(new FileStdin(source, 8 * MIB, '')));
    running.catch(() => undefined);
    pid = await startedPid(pidFile);
    await writeFile(source, Buffer.alloc(200_000, 'x'));
    await eventually(() => !alive(pid!), 30_000, 'the command to be killed once its channel closed');
    await assert.rejects(running, (e: Error) => e.message.includes(source), 'the run fails naming the short source');
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    await t.close();
  }
});

/** An 8 MiB payload to a command that does not read it, then the whole connection closed (the controller gone). */
async function connectionClosedMidPayload(name: string, fill: string, options: ExecOptions = {}): Promise<void> {
  const pidFile = path.join(work, `${name}.pid`);
  const t = transport();
  let pid: number | undefined;
  try {
    const running = t.exec(notReading(pidFile).withStdin(Buffer.alloc(8 * MIB, fill)), options);
    running.catch(() => undefined);
    pid = await startedPid(pidFile);
    await t.close();
    await eventually(() => !alive(pid!), 30_000, 'the command to be killed once the connection closed');
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    await t.close();
  }
}

test('item 9 review: the connection closed mid-payload (the controller gone) kills the command that was not reading', () => connectionClosedMidPayload('gone', 'y'));

test('item 9 review: under become (sudo), the connection closed mid-payload kills the command that was not reading', () =>
  connectionClosedMidPayload('become', 'z', { become: { user: 'root' } }));
