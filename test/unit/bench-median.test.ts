// The benchmark's one median (scripts/bench/tools.ts), used for the sweep's
// figures (bench.ts) and the start-up figures (start-time.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median } from '../../scripts/bench/tools.ts';

test('median: the middle time of an odd count, the mean of the two middle ones of an even count, in any order; the times are left as they were', () => {
  const times = [0.9, 0.3, 0.5];
  assert.equal(median(times), 0.5);
  assert.deepEqual(times, [0.9, 0.3, 0.5], 'not sorted in place');
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([10, 9, 2]), 9, 'compared as numbers, not as text');
  assert.equal(median([7]), 7);
});
