import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exceedsMaxFail, serialBatches } from '../../lib/runner/batches.ts';
import { selectedByTags } from '../../lib/runner/tags.ts';

const hosts = Array.from({ length: 10 }, (_, i) => `h${i}`);

test('serial batches: number, percentage, and a list whose last entry repeats', () => {
  assert.deepEqual(serialBatches(hosts, undefined).map((b) => b.length), [10]);
  assert.deepEqual(serialBatches(hosts, 3).map((b) => b.length), [3, 3, 3, 1]);
  assert.deepEqual(serialBatches(hosts, '25%').map((b) => b.length), [2, 2, 2, 2, 2]);
  assert.deepEqual(serialBatches(hosts, [1, 3, '50%']).map((b) => b.length), [1, 3, 5, 1]);
  assert.deepEqual(serialBatches(hosts, '1%').map((b) => b.length), Array(10).fill(1));
  assert.deepEqual(serialBatches(hosts, 3)[1], ['h3', 'h4', 'h5']);
});

test('maxFailPercentage aborts only when exceeded, not reached (as Ansible)', () => {
  assert.equal(exceedsMaxFail(1, 4, 25), false);
  assert.equal(exceedsMaxFail(2, 4, 25), true);
  assert.equal(exceedsMaxFail(0, 4, 0), false);
  assert.equal(exceedsMaxFail(1, 4, 0), true);
  assert.equal(exceedsMaxFail(4, 4, undefined), false);
});

test('tag selection follows Ansible: always, never, tagged, untagged, skip-tags wins', () => {
  const t = (...x: string[]) => new Set(x);
  assert.equal(selectedByTags(t(), [], []), true);
  assert.equal(selectedByTags(t('a'), ['b'], []), false);
  assert.equal(selectedByTags(t('a', 'b'), ['b'], []), true);
  assert.equal(selectedByTags(t('always'), ['b'], []), true);
  assert.equal(selectedByTags(t('always'), [], ['always']), false);
  assert.equal(selectedByTags(t('never', 'debug'), [], []), false);
  assert.equal(selectedByTags(t('never', 'debug'), ['debug'], []), true);
  assert.equal(selectedByTags(t('a'), ['a'], ['a']), false);
  assert.equal(selectedByTags(t(), ['untagged'], []), true);
  assert.equal(selectedByTags(t('x'), ['tagged'], []), true);
});
