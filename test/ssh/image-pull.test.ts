// The image pull over real SSH, through the runner: each host pulls on its
// own connection while the progress streams back; check mode pulls nothing;
// a present image is ok with no pull; a stalled pull fails naming the node,
// the image and the last progress, and its remote command is ended. The
// Docker side is the stand-in docker and curl (test/helpers/pull-standins.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay, ops } from '../../lib/index.ts';
import { sshInventory, startSshd } from '../helpers/sshd.ts';
import { runPlays } from '../helpers/run.ts';
import { pullStandins } from '../helpers/pull-standins.ts';

const IMAGES: Record<string, string[]> = {
  node1: ['reg.lab:5000/lab/app:slow', 'reg.lab:5000/lab/app:there'],
  node2: ['reg.lab:5000/lab/app:stall'],
};

const play = definePlay({
  name: 'pulls',
  hosts: 'all',
  // node1's limit is generous (its pull streams in real time; a loaded machine must not fail it), node2's short.
  tasks: ({ task }) => [task({ name: 'images pulled', op: (h) => ops.docker.imagePull({ images: IMAGES[h.name]!, stallSeconds: h.name === 'node2' ? 1 : 60, node: h.name }) })],
});

const hostEvent = (events: Awaited<ReturnType<typeof runPlays>>['events'], host: string) => {
  const e = events.find((x) => x.type === 'task-host' && x.task === 'images pulled' && x.host === host);
  assert.ok(e && e.type === 'task-host', `an event for ${host}`);
  return e;
};

const calls = (state: string) => (existsSync(path.join(state, 'calls')) ? readFileSync(path.join(state, 'calls'), 'utf8').split('\n').filter(Boolean) : []);

test('pulls over SSH: check mode lists and pulls nothing; a progressing pull completes, a present image is ok, a stalled one fails named and ended', async () => {
  const one = pullStandins();
  const two = pullStandins();
  const env = (s: typeof one) => ({ PATH: `${s.bin}:/usr/local/bin:/usr/bin:/bin`, PULL_STATE: s.state });
  const hosts = await Promise.all([startSshd({ env: env(one) }), startSshd({ address: '127.0.0.2', env: env(two) })]);
  let sleeper: number | undefined;
  try {
    writeFileSync(path.join(one.state, 'have', 'there'), '');
    const inv = sshInventory([
      { name: 'node1', sshd: hosts[0]! },
      { name: 'node2', sshd: hosts[1]! },
    ]);

    const checked = await runPlays(inv, [play], { check: true });
    assert.equal(checked.statuses.get('images pulled')!.get('node1'), 'changed');
    assert.equal(hostEvent(checked.events, 'node1').msg, 'pull reg.lab:5000/lab/app:slow', 'only the missing image');
    assert.deepEqual([calls(one.state), calls(two.state)], [[], []], 'check mode pulled nothing');

    const run = await runPlays(inv, [play]);
    if (existsSync(path.join(two.state, 'sleep.pid'))) sleeper = Number(readFileSync(path.join(two.state, 'sleep.pid'), 'utf8'));
    assert.equal(run.statuses.get('images pulled')!.get('node1'), 'changed');
    assert.deepEqual(calls(one.state), ['http://localhost/images/create?fromImage=reg.lab%3A5000%2Flab%2Fapp&tag=slow'], 'one pull, of the missing image');
    assert.ok(existsSync(path.join(one.state, 'have', 'slow')), 'the stream was read to its end');

    assert.equal(run.statuses.get('images pulled')!.get('node2'), 'failed');
    assert.match(hostEvent(run.events, 'node2').msg ?? '', /node2: pulling reg\.lab:5000\/lab\/app:stall: no progress for 1 s \(image_pull_stall_seconds\); last progress: 3f1c2a9b7d10: Downloading 1\.0 MB of 50\.0 MB/);
    const curl = Number(readFileSync(path.join(two.state, 'curl.pid'), 'utf8'));
    assert.throws(() => process.kill(curl, 0), /ESRCH/, 'the stalled pull was ended on the host');

    const again = await runPlays(inv, [play], { limit: 'node1' });
    assert.equal(again.statuses.get('images pulled')!.get('node1'), 'ok');
    assert.equal(calls(one.state).length, 1, 'present images: no pull');
  } finally {
    if (sleeper) {
      try {
        process.kill(sleeper, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(hosts.map((h) => h.stop()));
  }
});
