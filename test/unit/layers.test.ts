import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The layer rules (.dependency-cruiser.cjs), run as `npm test` runs them
// (`npm run lint:layers`) on a scratch copy of lib/: the copy as it is
// passes, and imports planted against the map are refused, each by the rule
// that names what it breaks. If the rules stopped enforcing the layering,
// the planted copy would pass and this test would fail.

const repo = path.resolve('.');

interface Violation {
  type: string;
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: { name: string }[];
}

/** A copy of what the layer check reads: lib/, the rule file, tsconfig.json and package.json (for the npm script). */
function scratchCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-layers-'));
  for (const name of ['lib', '.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) {
    cpSync(path.join(repo, name), path.join(dir, name), { recursive: true });
  }
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** `npm run lint:layers` in dir: its exit status, and (json) the violations it found. */
function lintLayers(dir: string, json: boolean) {
  const args = ['run', '--silent', 'lint:layers', ...(json ? ['--', '--output-type', 'json'] : [])];
  const run = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  const summary = json ? (JSON.parse(run.stdout) as { summary: { violations: Violation[]; totalCruised: number } }).summary : undefined;
  return { status: run.status, stderr: run.stderr, summary };
}

describe('the layer rules', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('lib/ as it is: no violation, no cycle', () => {
    const dir = scratchCopy();
    dirs.push(dir);
    const { status, stderr } = lintLayers(dir, false);
    assert.equal(status, 0, stderr);
  });

  describe('a copy with imports against the map', () => {
    let dir: string;
    let result: ReturnType<typeof lintLayers>;
    let violations: Violation[];
    before(() => {
      dir = scratchCopy();
      dirs.push(dir);
      // The floor importing the runner (an upward import, of a value).
      appendFileSync(path.join(dir, 'lib/shell/quote.ts'), "\nexport { batchScript } from '../runner/probe-batch.ts';\n");
      // A domain importing a domain beside it.
      appendFileSync(path.join(dir, 'lib/monitoring/alerts.ts'), "\nexport type { Finding } from '../daily/findings.ts';\n");
      // The type cycle this layering broke: the host context naming Task again (type-only).
      appendFileSync(path.join(dir, 'lib/model/host-context.ts'), "\nimport type { Task } from './task.ts';\nexport type TaskAgain = Task;\n");
      result = lintLayers(dir, true);
      violations = result.summary!.violations;
    });

    test('the check cruised the copy', () => {
      assert.ok(result.summary!.totalCruised > 100, `cruised ${result.summary!.totalCruised} modules`);
    });

    test('the floor importing the runner is refused as an upward import', () => {
      const v = violations.find((x) => x.from === 'lib/shell/quote.ts' && x.to === 'lib/runner/probe-batch.ts' && x.type === 'dependency');
      assert.ok(v, JSON.stringify(violations, null, 1));
      assert.equal(v.rule.name, 'no-upward-from-shell');
      assert.equal(v.rule.severity, 'error');
    });

    test('a domain importing another domain is refused as sideways', () => {
      const v = violations.find((x) => x.from === 'lib/monitoring/alerts.ts' && x.to === 'lib/daily/findings.ts');
      assert.equal(v?.rule.name, 'no-sideways-from-monitoring', JSON.stringify(violations, null, 1));
    });

    test('a cycle of type-only imports is refused', () => {
      const cycles = violations.filter((x) => x.rule.name === 'no-circular');
      const taskCycle = cycles.find((x) => [x.from, ...(x.cycle ?? []).map((c) => c.name)].includes('lib/model/host-context.ts') && (x.cycle ?? []).some((c) => c.name === 'lib/model/task.ts'));
      assert.ok(taskCycle, JSON.stringify(cycles, null, 1));
    });

    test('npm run lint:layers fails on that copy', () => {
      const { status } = lintLayers(dir, false);
      assert.notEqual(status, 0);
    });
  });
});
