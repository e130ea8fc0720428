// backupOps.pullSet over a real sshd: two inventory hosts (different backup
// roots under one scratch dir), the set streamed from one to the other
// through the controller (Remote.onHost + StreamStdin), verified, renamed.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { definePlay } from '../../lib/index.ts';
import { pullSet } from '../../lib/backup/ops/pull-set.ts';
import { runPlays, type RunOutput } from '../helpers/run.ts';
import { descendants, sshInventory, startSshd, startSshdWithOwnTmp, type TestSshd } from '../helpers/sshd.ts';

let sshd: TestSshd;
let work: string;
let remoteTmp: string;
before(async () => {
  ({ sshd, work, remoteTmp } = await startSshdWithOwnTmp('rigger-pullset-'));
});
after(async () => sshd.stop());

const SET = '20261207_020000';
let n = 0;

/** A published set as the set script writes it: item files, then a manifest naming each one's size and sha256. */
function makeSet(root: string, items: Record<string, Buffer>): string {
  const dir = path.join(root, SET);
  mkdirSync(dir, { recursive: true });
  const entries = Object.entries(items).map(([file, data]) => {
    writeFileSync(path.join(dir, file), data);
    return { name: file.replace(/\.tar$/, ''), kind: 'volume', file, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), check: 'tar' };
  });
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ format: 1, set: SET, created: '2026-12-07T02:00:00+00:00', host: 'src', bytes: 0, items: entries }) + '\n');
  return dir;
}

function scratch() {
  const base = path.join(work, `case${++n}`);
  const src = path.join(base, 'src-root');
  const dst = path.join(base, 'dst-root');
  mkdirSync(src, { recursive: true });
  mkdirSync(dst, { recursive: true });
  return { src, dst, copy: path.join(dst, 'copies', 'src', SET) };
}

function pullPlay(source: string, dir: string, reverify = false) {
  return definePlay({ name: 'pull', hosts: 'dst', tasks: ({ task }) => [task({ name: 'pull set', op: pullSet({ from: 'src', source, dir, root: path.resolve(dir, '../../..'), rootCreate: true, reverify }) })] });
}

const inventory = () => sshInventory([{ name: 'src', sshd }, { name: 'dst', sshd }]);
const outcome = (o: RunOutput) => o.events.find((e) => e.type === 'task-host' && e.task === 'pull set') as { status: string; msg?: string } | undefined;
const tree = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const same = (a: string, b: string) => assert.deepEqual(readFileSync(a), readFileSync(b), `${b} equals ${a}`);

test('a set is copied, verified and renamed into place; a second run is ok and changes nothing; check mode touches nothing', async () => {
  const { src, copy } = scratch();
  const set = makeSet(src, { 'volume-a.tar': randomBytes(300_000), 'volume-b.tar': randomBytes(777), 'volume-empty.tar': Buffer.alloc(0) });
  const inv = inventory();

  const checked = await runPlays(inv, [pullPlay(set, copy)], { check: true });
  assert.equal(outcome(checked)?.status, 'changed', 'check mode says it would copy');
  assert.equal(existsSync(path.dirname(copy)), false, 'check mode created nothing');

  const first = await runPlays(inv, [pullPlay(set, copy)]);
  assert.equal(outcome(first)?.status, 'changed', outcome(first)?.msg);
  for (const f of ['volume-a.tar', 'volume-b.tar', 'volume-empty.tar', 'manifest.json']) same(path.join(set, f), path.join(copy, f));
  assert.deepEqual(tree(path.dirname(copy)), [SET], 'no .partial left beside the copy');
  const mtime = execFileSync('stat', ['-c', '%Y.%i', path.join(copy, 'volume-a.tar')]).toString();

  const second = await runPlays(inv, [pullPlay(set, copy, true)]);
  assert.equal(outcome(second)?.status, 'ok', 'a verified copy is left alone (sha256 re-checked)');
  assert.equal(execFileSync('stat', ['-c', '%Y.%i', path.join(copy, 'volume-a.tar')]).toString(), mtime, 'not rewritten');
  assert.deepEqual(readdirSync(remoteTmp), [], 'no payload scratch dir left on the host');
});

test('a byte flipped in the source (its bytes no longer what its manifest says) fails the copy: no copy, no .partial', async () => {
  const { src, copy } = scratch();
  const set = makeSet(src, { 'volume-a.tar': randomBytes(100_000) });
  const file = path.join(set, 'volume-a.tar');
  const b = readFileSync(file);
  b[5000] = b[5000]! ^ 0xff;
  writeFileSync(file, b);
  const o = await runPlays(inventory(), [pullPlay(set, copy)]);
  assert.equal(outcome(o)?.status, 'failed');
  assert.match(outcome(o)?.msg ?? '', /did not verify: volume-a\.tar: sha256/);
  assert.deepEqual(tree(path.dirname(copy)), [], 'neither the copy nor its .partial');
});

test('a byte flipped in the copy: sizes alone do not see it, reverify does and replaces the copy; check mode leaves it', async () => {
  const { src, copy } = scratch();
  const set = makeSet(src, { 'volume-a.tar': randomBytes(50_000) });
  const inv = inventory();
  assert.equal(outcome(await runPlays(inv, [pullPlay(set, copy)]))?.status, 'changed');
  const file = path.join(copy, 'volume-a.tar');
  const b = readFileSync(file);
  b[100] = b[100]! ^ 0x01;
  writeFileSync(file, b);

  assert.equal(outcome(await runPlays(inv, [pullPlay(set, copy)]))?.status, 'ok', 'sizes only: the flip is not seen');
  const checked = await runPlays(inv, [pullPlay(set, copy, true)], { check: true });
  assert.equal(outcome(checked)?.status, 'changed');
  assert.match(outcome(checked)?.msg ?? '', /replace the damaged copy .*sha256/);
  assert.deepEqual(readFileSync(file), b, 'check mode left the damaged copy as it was');

  const repaired = await runPlays(inv, [pullPlay(set, copy, true)]);
  assert.equal(outcome(repaired)?.status, 'changed', outcome(repaired)?.msg);
  same(path.join(set, 'volume-a.tar'), file);
  assert.deepEqual(tree(path.dirname(copy)), [SET], 'no .partial, no .replaced left');
});

test('the source host lost mid-stream fails the op, leaves no .partial and nothing running', async () => {
  const far = await startSshd();
  try {
    const { src, copy } = scratch();
    const set = makeSet(src, { 'volume-small.tar': randomBytes(1000) });
    // A big item (sparse: cheap to make, read in full by tar) so the transfer is still going when the source dies.
    execFileSync('truncate', ['-s', '2G', path.join(set, 'volume-big.tar')]);
    const m = JSON.parse(readFileSync(path.join(set, 'manifest.json'), 'utf8'));
    m.items.push({ name: 'volume-big', kind: 'volume', file: 'volume-big.tar', bytes: 2 ** 31, sha256: '0'.repeat(64), check: 'tar' });
    writeFileSync(path.join(set, 'manifest.json'), JSON.stringify(m) + '\n');
    const inv = sshInventory([{ name: 'src', sshd: far }, { name: 'dst', sshd }]);
    const run = runPlays(inv, [pullPlay(set, copy)]);
    const partial = `${copy}.partial`;
    while (!existsSync(path.join(partial, 'volume-small.tar'))) await sleep(10);
    far.kill();
    const o = await run;
    assert.equal(outcome(o)?.status, 'failed');
    assert.match(outcome(o)?.msg ?? '', /copying src:.* failed/);
    const pid = Number(readFileSync(path.join(sshd.dir, 'sshd.pid'), 'utf8'));
    for (let i = 0; i < 1000 && descendants(pid).length > 0; i++) await sleep(20);
    assert.deepEqual(descendants(pid), [], 'nothing of the transfer is left running on the destination');
    assert.deepEqual(tree(path.dirname(copy)), [], 'neither the copy nor its .partial');
  } finally {
    await far.stop();
  }
});
