// The lab runner's order is the only place a lab suite is named: a suite
// missing from it would never run in CI, a name that is no file would fail
// the whole lab stage late, and a name twice would pay its suite twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LAB_SUITE_ORDER, runSuites, suiteFile } from '../../scripts/test-lab.ts';

test('the lab runner names every lab suite once, and only suites that exist', () => {
  const files = readdirSync('test/lab').filter((f) => f.endsWith('.test.ts')).map((f) => f.replace(/\.test\.ts$/, '')).sort();
  assert.deepEqual([...LAB_SUITE_ORDER].sort(), files);
  assert.equal(new Set(LAB_SUITE_ORDER).size, LAB_SUITE_ORDER.length);
  for (const s of LAB_SUITE_ORDER) assert.ok(existsSync(suiteFile(s)), s);
});

test('the suites that reuse a converged lab come after the one that converges it, and before the ones that reset', () => {
  const at = (s: string) => LAB_SUITE_ORDER.indexOf(s);
  for (const reuser of ['day-two', 'scheduled', 'swarm-safety', 'monitoring', 'first-run']) {
    assert.ok(at('cluster') < at(reuser), `${reuser} after cluster`);
    for (const resetter of ['backup', 'recovery', 'rehearsal', 'lab', 'facts']) assert.ok(at(resetter) < at('cluster') || at(resetter) > at(reuser), `${resetter} not between cluster and ${reuser}`);
  }
});

test('the suites that reuse the converged rehearsal come right after the rehearsal, no other suite between them', () => {
  const at = (s: string) => LAB_SUITE_ORDER.indexOf(s);
  const reusers = LAB_SUITE_ORDER.filter((s) => s.startsWith('rehearsal-'));
  assert.ok(reusers.length > 0);
  // rehearsal-recovery loses every node and hands the recovered rehearsal on: a suite of another cluster
  // between two rehearsal suites would reset the nodes and make the next one converge again.
  assert.deepEqual(LAB_SUITE_ORDER.slice(at('rehearsal') + 1), reusers);
});

test('the backup and copy suites come before rehearsal-recovery, which wipes every backup disk', () => {
  const at = (s: string) => LAB_SUITE_ORDER.indexOf(s);
  for (const s of ['rehearsal-pitr', 'rehearsal-backup-copies', 'rehearsal-offsite']) assert.ok(at(s) < at('rehearsal-recovery'), s);
});

test('the plan and resume suites run on the converged rehearsal, before rehearsal-recovery loses its nodes', () => {
  const at = (s: string) => LAB_SUITE_ORDER.indexOf(s);
  for (const s of ['rehearsal-plans', 'rehearsal-resume']) {
    assert.ok(at('rehearsal') < at(s), `${s} after rehearsal`);
    assert.ok(at(s) < at('rehearsal-recovery'), `${s} before rehearsal-recovery`);
  }
});

test('the suites that restart SGLang without testing its load run on the recovered rehearsal, whose model loads for seconds; deploy-window, whose after() leaves it loading, last', () => {
  const at = (s: string) => LAB_SUITE_ORDER.indexOf(s);
  for (const s of ['rehearsal-scale', 'rehearsal-deploy-window']) assert.ok(at('rehearsal-recovery') < at(s), s);
  assert.equal(LAB_SUITE_ORDER.at(-1), 'rehearsal-deploy-window');
});

test('a failed suite does not stop the ones after it, and the run exits 1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-order-'));
  try {
    const mark = path.join(dir, 'ran');
    writeFileSync(path.join(dir, 'bad.test.ts'), `import { test } from 'node:test';\ntest('fails', () => { throw new Error('planted'); });\n`);
    writeFileSync(path.join(dir, 'good.test.ts'), `import { test } from 'node:test';\nimport { writeFileSync } from 'node:fs';\ntest('runs', () => { writeFileSync(${JSON.stringify(mark)}, 'yes'); });\n`);
    assert.equal(runSuites(['bad', 'good'], (n) => path.join(dir, `${n}.test.ts`)), 1);
    assert.equal(readFileSync(mark, 'utf8'), 'yes', 'the suite after the failed one ran');
    assert.equal(runSuites(['good'], (n) => path.join(dir, `${n}.test.ts`)), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
