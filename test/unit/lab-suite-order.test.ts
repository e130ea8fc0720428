import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

// The lab suites run in the order package.json's test:lab lists them, so that a suite hands a
// converged lab to the next (docs/testing.md); a suite added to test/lab but not to that list would
// never run in CI.
test('test:lab lists every lab suite exactly once, in an explicit order', () => {
  const script = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts['test:lab']!;
  const listed = script.split(/\s+/).filter((w) => w.startsWith('test/lab/'));
  assert.ok(!script.includes('*'), `no glob: ${script}`);
  const files = readdirSync('test/lab').filter((f) => f.endsWith('.test.ts')).map((f) => `test/lab/${f}`);
  assert.deepEqual([...listed].sort(), files.sort());
  assert.equal(new Set(listed).size, listed.length, 'none twice');
});
