// backupOps.pullSet over the local connection (two inventory hosts that are
// this machine): the local transport kills a cut command with SIGKILL, so no
// trap of the destination's runs; the op's own cleanup, under the same lock,
// must still leave no DIR.partial.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { definePlay } from '../../lib/index.ts';
import { pullSet } from '../../lib/backup/ops/pull-set.ts';
import { localInventory, runPlays } from '../helpers/run.ts';

const SET = '20261207_020000';

test('a source file that shrinks mid-stream fails the pull; no copy and no .partial are left (local connection)', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-pull-local-'));
  const set = path.join(work, 'src', SET);
  mkdirSync(set, { recursive: true });
  const small = randomBytes(2000);
  writeFileSync(path.join(set, 'volume-small.tar'), small);
  execFileSync('truncate', ['-s', '256M', path.join(set, 'volume-big.tar')]);
  const items = [
    { name: 'volume-small', kind: 'volume', file: 'volume-small.tar', bytes: small.length, sha256: createHash('sha256').update(small).digest('hex'), check: 'tar' },
    { name: 'volume-big', kind: 'volume', file: 'volume-big.tar', bytes: 2 ** 28, sha256: '0'.repeat(64), check: 'tar' },
  ];
  writeFileSync(path.join(set, 'manifest.json'), JSON.stringify({ format: 1, set: SET, created: '', host: 'src', bytes: 0, items }) + '\n');
  const copy = path.join(work, 'dst', 'copies', 'src', SET);
  const play = definePlay({ name: 'pull', hosts: 'dst', tasks: ({ task }) => [task({ name: 'pull set', op: pullSet({ from: 'src', source: set, dir: copy, root: path.join(work, 'dst'), rootCreate: true }) })] });
  const run = runPlays(localInventory(['src', 'dst']), [play]);
  while (!existsSync(path.join(`${copy}.partial`, 'volume-small.tar'))) await sleep(10);
  truncateSync(path.join(set, 'volume-big.tar'), 1000);
  const o = await run;
  const e = o.events.find((x) => x.type === 'task-host' && x.task === 'pull set') as { status: string; msg?: string };
  assert.equal(e.status, 'failed', e.msg);
  assert.match(e.msg ?? '', /exited 1: tar: volume-big\.tar: File shrank|ended after \d+ of its \d+ bytes|did not verify: volume-big\.tar/, 'the source failing (or the padded bytes failing their checksum) fails the op');
  assert.deepEqual(readdirSync(path.dirname(copy)), [], 'neither the copy nor its .partial');
  assert.deepEqual(readFileSync(path.join(set, 'volume-small.tar')), small, 'the source is untouched');
});

test('a set a killed pull left only as DIR.replaced is put back, not deleted, when the next pull fails (local connection)', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-pull-replaced-'));
  const set = path.join(work, 'src', SET);
  mkdirSync(set, { recursive: true });
  const data = randomBytes(3000);
  writeFileSync(path.join(set, 'volume-a.tar'), data);
  // The source's manifest does not match its file: this pull fails after the transfer.
  const items = [{ name: 'volume-a', kind: 'volume', file: 'volume-a.tar', bytes: data.length, sha256: '0'.repeat(64), check: 'tar' }];
  writeFileSync(path.join(set, 'manifest.json'), JSON.stringify({ format: 1, set: SET, created: '', host: 'src', bytes: 0, items }) + '\n');
  // What a pull killed between `mv DIR DIR.replaced` and `mv DIR.partial DIR` leaves: the old copy under .replaced only.
  const copy = path.join(work, 'dst', 'copies', 'src', SET);
  mkdirSync(`${copy}.replaced`, { recursive: true });
  writeFileSync(path.join(`${copy}.replaced`, 'volume-a.tar'), 'the only good copy');
  const play = definePlay({ name: 'pull', hosts: 'dst', tasks: ({ task }) => [task({ name: 'pull set', op: pullSet({ from: 'src', source: set, dir: copy, root: path.join(work, 'dst'), rootCreate: true }) })] });
  const o = await runPlays(localInventory(['src', 'dst']), [play]);
  const e = o.events.find((x) => x.type === 'task-host' && x.task === 'pull set') as { status: string; msg?: string };
  assert.equal(e.status, 'failed', e.msg);
  assert.equal(readFileSync(path.join(copy, 'volume-a.tar'), 'utf8'), 'the only good copy', 'the old copy is back at its name');
  assert.deepEqual(readdirSync(path.dirname(copy)), [SET]);
});
