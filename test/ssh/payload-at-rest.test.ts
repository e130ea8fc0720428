import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { sh } from '../../lib/shell/command.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { startSshdWithOwnTmp, transportTo, type TestSshd } from '../helpers/sshd.ts';
import { eventually } from '../helpers/stream.ts';

/** A host whose TMPDIR is its own, where the old wrapper staged every payload. */
let sshd: TestSshd;
let remoteTmp: string;
let work: string;
before(async () => {
  ({ sshd, work, remoteTmp } = await startSshdWithOwnTmp('rigger-at-rest-'));
});
after(async () => sshd.stop());

const transport = () => transportTo(sshd);

/** Every regular file under dir whose bytes hold the marker (FIFOs and sockets are not read: they hold nothing at rest). */
function filesHolding(dir: string, marker: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) found.push(...filesHolding(p, marker));
    else if (st.isFile() && readFileSync(p).includes(marker)) found.push(p);
  }
  return found;
}


test('item 9: a Secret on stdin rests in no file on the host, while its command runs nor after the host side is SIGKILLed', async () => {
  const marker = `MARKER09-${randomBytes(12).toString('hex')}`;
  const signals = path.join(work, 'signals');
  mkdirSync(signals);
  const t = transport();
  try {
    // The command has read its whole stdin, then waits: the payload's whole
    // life on the host is inside this window. It records its wrapper's pid.
    const running = t.exec(
      sh`cat >/dev/null; echo "$PPID $$" > ${path.join(signals, 'pids')}; while [ ! -e ${path.join(signals, 'go')} ]; do sleep 0.05; done`.withStdin(
        new Secret(marker),
      ),
    );
    running.catch(() => undefined);
    // Whole lines only: the file exists, empty, before echo writes to it.
    const pids = path.join(signals, 'pids');
    await eventually(() => existsSync(pids) && readFileSync(pids, 'utf8').endsWith('\n'), 30_000, 'the command to read its stdin');
    assert.deepEqual(filesHolding(remoteTmp, marker), [], 'no file in the host TMPDIR holds the secret while the command runs');
    // A crash: the wrapper and the command die without running any trap.
    // The wrapper first: killed after its command, it would see the command
    // end and exit on its own before this second kill (ESRCH).
    const [wrapper, group] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    process.kill(wrapper!, 'SIGKILL');
    process.kill(-group!, 'SIGKILL');
    await running.then(
      (r) => assert.equal(r.code, 137, 'the wrapper died of SIGKILL'),
      () => undefined,
    );
    assert.deepEqual(filesHolding(remoteTmp, marker), [], 'no file in the host TMPDIR holds the secret after a SIGKILL');
    assert.deepEqual(readdirSync(remoteTmp), [], 'no payload dir is left behind');
  } finally {
    await t.close();
  }
});
