import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sshInventory, startSshd } from '../helpers/sshd.ts';
import { LiveRun } from '../helpers/stream.ts';
import { WAIT_KINDS, type HostProfile, type RunProfile } from '../../lib/model/profile.ts';

const PLAYBOOK = 'test/fixtures/playbooks/profile.ts';

function parts(h: HostProfile): number {
  return h.connectMs + h.probes.ms + h.changes.ms + WAIT_KINDS.reduce((s, k) => s + h.waits[k], 0) + h.otherMs;
}

async function run(args: string[], dir: string): Promise<{ events: Record<string, any>[]; stdout: string; code: number | null }> {
  const r = new LiveRun([PLAYBOOK, ...args], { PROFILE_DIR: dir });
  const code = await r.done;
  return { events: r.events, stdout: r.stdout, code };
}

test('--profile over real sshd: each host\'s play time split into connect, round trips, waits and the rest; a no-op run makes no change round trip', async () => {
  const hosts = await Promise.all([startSshd(), startSshd({ address: '127.0.0.2' })]);
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-profile-'));
  try {
    const inv = sshInventory(hosts.map((sshd, i) => ({ name: `h${i + 1}`, sshd })));
    const cold = await run(['-i', inv, '--json', '--profile', '--forks', '1'], dir);
    assert.equal(cold.code, 0, cold.stdout);
    const at = cold.events.findIndex((e) => e.type === 'profile');
    assert.ok(at >= 0, 'a profile event');
    assert.equal(cold.events.at(-1)!.type, 'recap', 'the recap stays the last line');
    assert.equal(at, cold.events.length - 2, 'the profile comes just before the recap');
    const p = cold.events[at]!.profile as RunProfile;
    assert.deepEqual(p.plays.map((x) => x.play), ['files', 'retry']);
    for (const host of ['h1', 'h2']) {
      const files = p.plays[0]!.hosts[host]!;
      const retry = p.plays[1]!.hosts[host]!;
      assert.ok(files.connectMs > 0, `${host}: its connection is timed, in the play that opened it`);
      assert.equal(retry.connectMs, 0, `${host}: the connection is counted once`);
      assert.ok(files.probes.count >= 1 && files.probes.ms > 0, `${host}: probe round trips`);
      for (const play of p.plays) {
        // The parts add up to the play's wall time (the rest is never negative), and nothing is
        // counted twice: only the connection may have started before the play (connectEarly).
        const h = play.hosts[host]!;
        assert.ok(parts(h) >= play.wallMs - 1, `${host} ${play.play}: parts cover the wall time`);
        assert.ok(parts(h) - h.connectMs <= play.wallMs + 1, `${host} ${play.play}: no time counted twice (${parts(h)} ms of parts, ${play.wallMs} ms of play)`);
      }
      assert.ok(retry.waits.retry >= 1000 && retry.waits.retry < 1500, `${host}: the retry's 1 s delay is a wait (${retry.waits.retry} ms)`);
      assert.equal(p.hosts[host]!.probes.count, files.probes.count + retry.probes.count, `${host}: the run's figures sum the plays'`);
    }
    for (const host of ['h1', 'h2']) assert.ok(p.plays[0]!.hosts[host]!.changes.count >= 1, `${host}: a cold run makes change round trips`);
    assert.ok(p.cpuMs > 0 && p.wallMs >= p.plays[0]!.wallMs + p.plays[1]!.wallMs, 'run totals');

    for (const host of ['h1', 'h2']) rmSync(path.join(dir, host, 'tried'));
    const plain = await run(['-i', inv, '--profile'], dir);
    assert.equal(plain.code, 0, plain.stdout);
    const lines = plain.stdout.split('\n');
    const recapAt = lines.findIndex((l) => l.startsWith('PLAY RECAP'));
    const profileAt = lines.findIndex((l) => l.startsWith('PROFILE (wall'));
    assert.ok(recapAt >= 0 && profileAt > recapAt, 'the table follows the recap');
    assert.match(lines[profileAt + 1]!, /connect\s+probes\s+changes\s+docker\s+apt\s+health\s+retry\s+rest\s+remote≈/);
    assert.ok(lines.some((l) => /^PLAY \[files\] /.test(l)) && lines.some((l) => /^\s+h2\s+\d+ ms\s+\d+× /.test(l)), 'per play, per host rows');
    assert.match(plain.stdout, /host time, all hosts summed: rigger's round trips and connections [\d.]+ m?s \(\d+ %\), retry [\d.]+ m?s \(\d+ %\), controller and idle/);

    // The marker left in place: the files are converged and the flaky task passes at once.
    const noop = await run(['-i', inv, '--json', '--profile'], dir);
    const q = noop.events.find((e) => e.type === 'profile')!.profile as RunProfile;
    for (const host of ['h1', 'h2']) {
      assert.equal(q.plays[0]!.hosts[host]!.changes.count, 0, `${host}: converged files cost only probe round trips`);
      assert.equal(q.plays[1]!.hosts[host]!.changes.count, 1, `${host}: a shell command always runs: one round trip`);
      assert.equal(q.hosts[host]!.waits.retry, 0, `${host}: no retry, no wait`);
    }
    // Without --profile there is no profile event and no table.
    const bare = await run(['-i', inv, '--json'], dir);
    assert.ok(!bare.events.some((e) => e.type === 'profile'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all(hosts.map((h) => h.stop()));
  }
});
