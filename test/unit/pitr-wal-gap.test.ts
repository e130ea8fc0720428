// The plan's check that the archived WAL is continuous from the base
// backup's start segment (lib/pitr/wal-run.ts, planRecovery), on segment
// names as pg_receivewal writes them (16 MB segments: 00..FF, then the log).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pitrConfig } from '../../lib/pitr/config.ts';
import { parseRange, planRecovery, rangeCommand } from '../../lib/pitr/scripts.ts';
import { continuousRun, segmentName, segmentPosition } from '../../lib/pitr/wal-run.ts';

/** Segment names from `first` on, `count` of them, as the archive lists them. */
function segments(first: string, count: number): string[] {
  const p = segmentPosition(first);
  return Array.from({ length: count }, (_, i) => segmentName(first.slice(0, 8), p + i));
}

test('segment names follow each other across a log boundary (…000000FF, then the next log\'s …00000000)', () => {
  assert.deepEqual(segments('0000000100000003000000FE', 3), ['0000000100000003000000FE', '0000000100000003000000FF', '000000010000000400000000']);
  const run = continuousRun(['0000000100000003000000FE', '0000000100000003000000FF', '000000010000000400000000', '000000010000000400000001.partial'], '0000000100000003000000FE');
  assert.deepEqual(run, { last: '000000010000000400000001.partial', beyond: 0 });
});

test('a missing segment ends the continuous run; the segments after it are counted as unreachable', () => {
  const all = segments('000000010000000000000010', 8); // …10 to …17
  const withGap = all.filter((s) => s !== '000000010000000000000013');
  const run = continuousRun([...withGap.slice(0, -1), `${withGap.at(-1)}.partial`], '000000010000000000000010');
  assert.deepEqual(run, { last: '000000010000000000000012', missing: '000000010000000000000013', beyond: 4 });
  // A gap across a log boundary is named as the segment that is missing, not a name that cannot exist.
  const across = continuousRun(['0000000100000003000000FE', '0000000100000003000000FF', '000000010000000400000001'], '0000000100000003000000FE');
  assert.equal(across?.missing, '000000010000000400000000');
  assert.equal(continuousRun(all, '000000010000000000000020'), undefined, 'the start segment not archived');
});

test('a promotion\'s new timeline continues the old one\'s position: no gap', () => {
  const run = continuousRun(['000000010000000000000005', '000000010000000000000006', '000000020000000000000006', '000000020000000000000007.partial'], '000000010000000000000005');
  assert.deepEqual(run, { last: '000000020000000000000007.partial', beyond: 0 });
});

// What the range script prints on an archive whose slot dropped WAL: segment 13 gone, commits found in 12 and in 17's partial.
const gapped = parseRange(
  [
    '@@base 20261207_020000 000000010000000000000010 2026-12-07T02:00:30Z',
    ...['10', '11', '12', '14', '15', '16'].map((s) => `@@wal 0000000100000000000000${s}`),
    '@@wal 000000010000000000000017.partial',
    '@@newest 2026-12-07 13:40:01.123456 000000010000000000000017.partial',
    '@@newest 2026-12-07 09:15:00.5 000000010000000000000012',
  ].join('\n'),
);

test('a gap makes the newest reachable time the last commit before it; a later target is refused naming that time and the gap', () => {
  const late = planRecovery(gapped, new Date('2026-12-07T12:00:00Z'));
  assert.ok(!late.ok, 'a target past the gap is refused');
  assert.match(late.reason, /newest time reachable is just before 2026-12-07T09:15:00\.500Z/);
  assert.match(late.reason, /segment 000000010000000000000013 is missing \(4 later segments cannot be replayed\)/);
  const before = planRecovery(gapped, new Date('2026-12-07T09:00:00Z'));
  assert.ok(before.ok, !before.ok ? before.reason : '');
  assert.equal(before.newest, '2026-12-07T09:15:00.500Z', 'the reachable end reported is the end of the continuous run');
});

test('without a gap the newest archived commit is reachable; the base backup\'s start segment missing is refused', () => {
  const whole = parseRange(
    [
      '@@base 20261207_020000 000000010000000000000010 2026-12-07T02:00:30Z',
      ...['10', '11', '12', '13'].map((s) => `@@wal 0000000100000000000000${s}`),
      '@@newest 2026-12-07 13:40:01.123456 000000010000000000000013',
    ].join('\n'),
  );
  const p = planRecovery(whole, new Date('2026-12-07T12:00:00Z'));
  assert.ok(p.ok && p.newest === '2026-12-07T13:40:01.123Z');
  const noStart = planRecovery({ ...whole, wal: whole.wal.slice(1) }, new Date('2026-12-07T12:00:00Z'));
  assert.ok(!noStart.ok);
  assert.match(noStart.reason, /WAL segment 000000010000000000000010 where base backup 20261207_020000 starts is not archived/);
});

// A cluster made with `initdb --wal-segsize`: a log holds 0x100000000 / size segments, so with 64 MB
// segments the segment part goes 00..3F and …0000003F is followed by the next log's …00000000.
const MB = 1024 * 1024;

test('the log boundary follows the segment size: 16 MB segments end a log at …FF, 64 MB ones at …3F', () => {
  const at16 = continuousRun(['0000000100000003000000FE', '0000000100000003000000FF', '000000010000000400000000'], '0000000100000003000000FE', 16 * MB);
  assert.deepEqual(at16, { last: '000000010000000400000000', beyond: 0 });
  const at64 = continuousRun(['00000001000000030000003E', '00000001000000030000003F', '000000010000000400000000', '000000010000000400000001.partial'], '00000001000000030000003E', 64 * MB);
  assert.deepEqual(at64, { last: '000000010000000400000001.partial', beyond: 0 }, 'with 64 MB segments …3F is the last of its log: no gap after it');
  // A gap is named as a segment that exists at that size (…40 never does with 64 MB segments).
  const gap64 = continuousRun(['00000001000000030000003F', '000000010000000400000001'], '00000001000000030000003F', 64 * MB);
  assert.equal(gap64?.missing, '000000010000000400000000');
  assert.deepEqual(segments64('00000001000000030000003F', 2), ['00000001000000030000003F', '000000010000000400000000']);
  assert.throws(() => continuousRun([], '000000010000000000000000', 3 * MB), /3145728 bytes is not a WAL segment size/);
});

function segments64(first: string, count: number): string[] {
  const p = segmentPosition(first, 64 * MB);
  return Array.from({ length: count }, (_, i) => segmentName(first.slice(0, 8), p + i, 64 * MB));
}

test('the plan reads the segment size the range script found (the archived files\' size) and judges continuity with it', () => {
  const range = parseRange(
    [
      '@@segsize 67108864',
      '@@base 20261207_020000 00000001000000030000003E 2026-12-07T02:00:30Z',
      ...['00000001000000030000003E', '00000001000000030000003F', '000000010000000400000000'].map((s) => `@@wal ${s}`),
      '@@newest 2026-12-07 13:40:01.123456 000000010000000400000000',
    ].join('\n'),
  );
  assert.equal(range.segmentBytes, 64 * MB);
  const p = planRecovery(range, new Date('2026-12-07T12:00:00Z'));
  assert.ok(p.ok, !p.ok ? p.reason : '');
  assert.equal(p.newest, '2026-12-07T13:40:01.123Z', 'the commit in the next log is reachable: no gap at …3F');
  assert.equal(parseRange('@@base 20261207_020000 000000010000000000000010 2026-12-07T02:00:30Z').segmentBytes, 16 * MB, 'no full segment archived yet: PostgreSQL\'s default');
});

test("the range script, run here on 64 MB segment files: it reports their size, and …3F then the next log's …00 is one run (one newest commit, not one per run)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-pitr-range-'));
  const archive = path.join(dir, 'archive');
  mkdirSync(path.join(archive, 'wal'), { recursive: true });
  // Sparse files of the segment size, as pg_receivewal writes them (its .partial padded to it too).
  for (const name of ['00000001000000030000003E', '00000001000000030000003F', '000000010000000400000000.partial']) {
    writeFileSync(path.join(archive, 'wal', name), '');
    truncateSync(path.join(archive, 'wal', name), 64 * MB);
  }
  // A stand-in docker for the archiver's pg_waldump: every segment holds a commit (nothing here reaches Docker).
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'docker'), "#!/bin/sh\necho 'rmgr: Transaction len: 34, desc: COMMIT 2026-12-07 13:40:01.123456 UTC'\n");
  chmodSync(path.join(bin, 'docker'), 0o755);
  const c = pitrConfig.parse({ database_host: 'db', archive_host: 'arc', archive_dir: archive, password: 'x' });
  const out = execFileSync('sh', ['-c', rangeCommand(c).bytes.toString('utf8')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }).toString('utf8');
  const range = parseRange(out);
  assert.equal(range.segmentBytes, 64 * MB, out);
  assert.deepEqual(range.commits.map((x) => x.segment), ['000000010000000400000000.partial'], `one continuous run: ${out}`);
});
