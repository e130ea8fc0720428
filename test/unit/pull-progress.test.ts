// The Engine API's pull progress (POST /images/create) and the stall verdict,
// fed the message shapes moby's jsonmessage writes, on an injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PullProgress, stalled } from '../../lib/ops/docker/pull-progress.ts';
import { parsePullState, pullQuery } from '../../lib/ops/docker/image-pull.ts';

const S = 1000;
const STALL = 120 * S;
const msg = (o: object) => JSON.stringify(o) + '\r\n';
const downloading = (id: string, current: number, total: number) =>
  msg({ status: 'Downloading', progressDetail: { current, total }, progress: `[=>   ] ${current}B/${total}B`, id });

/** The start of a real pull of a two-layer image, as the daemon streams it. */
const START = [
  msg({ status: 'Pulling from vibe/sglang', id: 'v0.3.6' }),
  msg({ status: 'Pulling fs layer', progressDetail: {}, id: '3f1c2a9b7d10' }),
  msg({ status: 'Pulling fs layer', progressDetail: {}, id: '9d0e4b1c2a33' }),
  msg({ status: 'Waiting', progressDetail: {}, id: '9d0e4b1c2a33' }),
].join('');

test('a slow pull that keeps receiving bytes is never stalled, however long it runs; its end is seen', () => {
  const p = new PullProgress(0);
  p.feed(START, 0);
  const total = 4_800_000_000;
  // 20 minutes at 4 MB every 100 s: ten times the stall limit overall, never 120 s without a byte.
  for (let t = 100 * S, got = 4e6; t <= 1200 * S; t += 100 * S, got += 4e6) {
    assert.equal(stalled(p, t, STALL), false, `at ${t / S} s`);
    p.feed(downloading('3f1c2a9b7d10', got, total), t);
    assert.equal(stalled(p, t + 119 * S, STALL), false, `119 s after the bytes at ${t / S} s`);
  }
  p.feed(msg({ status: 'Verifying Checksum', progressDetail: {}, id: '3f1c2a9b7d10' }), 1300 * S);
  p.feed(msg({ status: 'Download complete', progressDetail: {}, id: '3f1c2a9b7d10' }), 1301 * S);
  p.feed(msg({ status: 'Extracting', progressDetail: { current: 32768, total }, progress: '[>  ]', id: '3f1c2a9b7d10' }), 1400 * S);
  p.feed(msg({ status: 'Pull complete', progressDetail: {}, id: '3f1c2a9b7d10' }), 1500 * S);
  p.feed(msg({ status: 'Already exists', progressDetail: {}, id: '9d0e4b1c2a33' }), 1500 * S);
  assert.equal(p.done, false);
  p.feed(msg({ status: 'Digest: sha256:' + 'a'.repeat(64) }) + msg({ status: 'Status: Downloaded newer image for vibe/sglang:v0.3.6' }), 1501 * S);
  assert.equal(p.done, true);
  assert.equal(p.error, undefined);
});

test('a pull with no new bytes is stalled exactly at the stall limit after its last progress, and says what that was', () => {
  const p = new PullProgress(0);
  p.feed(START, 0);
  p.feed(downloading('3f1c2a9b7d10', 1_200_000_000, 4_800_000_000), 300 * S);
  assert.equal(stalled(p, 419 * S, STALL), false);
  assert.equal(stalled(p, 420 * S, STALL), true);
  assert.equal(p.lastProgress, '3f1c2a9b7d10: Downloading 1.20 GB of 4.80 GB');
});

test('messages that are not progress do not extend the deadline: the same byte count again, Waiting, Retrying', () => {
  const p = new PullProgress(0);
  p.feed(START, 0);
  p.feed(downloading('3f1c2a9b7d10', 5_000_000, 9_000_000), 10 * S);
  for (let t = 20 * S; t < 200 * S; t += 10 * S) {
    p.feed(downloading('3f1c2a9b7d10', 5_000_000, 9_000_000), t);
    p.feed(msg({ status: 'Waiting', progressDetail: {}, id: '9d0e4b1c2a33' }), t);
    p.feed(msg({ status: 'Retrying in 5 seconds', progressDetail: {}, id: '9d0e4b1c2a33' }), t);
  }
  assert.equal(stalled(p, 130 * S, STALL), true, 'the last progress was at 10 s');
  assert.equal(p.lastProgress, '3f1c2a9b7d10: Downloading 5.0 MB of 9.0 MB');
});

test('a layer step without bytes is progress (a long checksum verification, then the next layer)', () => {
  const p = new PullProgress(0);
  p.feed(START, 0);
  p.feed(msg({ status: 'Verifying Checksum', progressDetail: {}, id: '3f1c2a9b7d10' }), 100 * S);
  assert.equal(stalled(p, 219 * S, STALL), false);
  assert.equal(p.lastProgress, '3f1c2a9b7d10: Verifying Checksum');
});

test('lines split across chunks are read whole; a last line without its newline is read at the end', () => {
  const p = new PullProgress(0);
  const line = downloading('3f1c2a9b7d10', 2_000_000, 8_000_000);
  p.feed(line.slice(0, 17), 5 * S);
  assert.equal(p.lastProgress, undefined);
  p.feed(line.slice(17), 6 * S);
  assert.equal(p.lastProgressAt, 6 * S);
  const end = msg({ status: 'Status: Image is up to date for x:1' }).trim();
  p.feed(end, 7 * S);
  assert.equal(p.done, false);
  p.end(7 * S);
  assert.equal(p.done, true);
});

test("the daemon's errors: an errorDetail in the stream, and the API's error body before it", () => {
  const inStream = new PullProgress(0);
  inStream.feed(START + msg({ errorDetail: { message: 'manifest for vibe/sglang:v9 not found: manifest unknown' }, error: 'manifest for vibe/sglang:v9 not found: manifest unknown' }), 1 * S);
  assert.equal(inStream.error, 'manifest for vibe/sglang:v9 not found: manifest unknown');
  const body = new PullProgress(0);
  body.feed(msg({ message: 'pull access denied for nosuch, repository does not exist or may require \'docker login\'' }), 1 * S);
  assert.match(body.error!, /pull access denied for nosuch/);
});

test('a reference as the API takes it: its tag, its digest (a tag beside it dropped), latest when it has neither', () => {
  assert.deepEqual(pullQuery('172.30.99.5:5000/lab/web:good'), { fromImage: '172.30.99.5:5000/lab/web', tag: 'good' });
  assert.deepEqual(pullQuery('172.30.99.5:5000/lab/web'), { fromImage: '172.30.99.5:5000/lab/web', tag: 'latest' });
  const d = 'sha256:' + 'b'.repeat(64);
  assert.deepEqual(pullQuery(`172.30.99.5:5000/lab/web:good@${d}`), { fromImage: '172.30.99.5:5000/lab/web', tag: d });
  assert.deepEqual(pullQuery(`postgres@${d}`), { fromImage: 'postgres', tag: d });
  assert.deepEqual(pullQuery('lmsysorg/sglang:v0.3.6-cu124'), { fromImage: 'lmsysorg/sglang', tag: 'v0.3.6-cu124' });
});

test('the probe reads which images are missing', () => {
  assert.deepEqual(parsePullState('@@present a:1\n@@missing b:2\n@@missing c@sha256:00\n').missing, ['b:2', 'c@sha256:00']);
});
