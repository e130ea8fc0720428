import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  describe('a copy with files and imports the map does not allow', () => {
    let violations: Violation[];
    /** The rule names that refused the import from -> to (or, with to omitted, the file from itself). */
    const refusedBy = (from: string, to?: string) =>
      violations.filter((v) => v.from === from && (to === undefined || v.to === to)).map((v) => v.rule.name);
    before(() => {
      const dir = scratchCopy();
      dirs.push(dir);
      const plant = (file: string, text: string) => {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        appendFileSync(path.join(dir, file), text);
      };
      // A file in the map that nothing imports and that imports nothing.
      plant('lib/shell/unused.ts', 'export const unused = 1;\n');
      // A file outside every layer that imports nothing of lib/, imported by an op.
      plant('lib/util/x.ts', 'export const x = 1;\n');
      plant('lib/ops/assert.ts', "\nexport { x } from '../util/x.ts';\n");
      // A file outside every layer that imports lib/.
      plant('lib/extra/y.ts', "export { quote } from '../shell/quote.ts';\n");
      plant('lib/index.ts', "\nexport * from './extra/y.ts';\n");
      // lib/ importing the repository's scripts/.
      plant('scripts/planted.ts', 'export const planted = 1;\n');
      plant('lib/shell/secret.ts', "\nexport { planted } from '../../scripts/planted.ts';\n");
      // A renderer importing the transport (a layer below it, but not one ui may use).
      plant('lib/ui/plain.ts', "\nexport { LocalTransport } from '../transport/local.ts';\n");
      // The model importing a value of the transport (it may import only its types).
      plant('lib/model/op.ts', "\nexport { parseKnownHosts } from '../transport/known-hosts.ts';\n");
      // An op importing the engine beyond the one probe-batch file it is allowed.
      plant('lib/ops/each.ts', "\nexport { selectedByTags as plantedTags } from '../runner/tags.ts';\n");
      violations = lintLayers(dir, true).summary!.violations;
    });

    test('a file nothing imports is refused as an orphan', () => {
      assert.ok(refusedBy('lib/shell/unused.ts').includes('no-orphans'), JSON.stringify(violations, null, 1));
    });

    test('a file outside the map that imports nothing of lib/ is refused where it is imported', () => {
      assert.ok(refusedBy('lib/ops/assert.ts', 'lib/util/x.ts').includes('imported-in-the-map'), JSON.stringify(violations, null, 1));
    });

    test('a file outside the map that imports lib/ is refused', () => {
      assert.ok(refusedBy('lib/extra/y.ts').includes('in-the-map'), JSON.stringify(violations, null, 1));
    });

    test('lib/ importing scripts/ is refused', () => {
      assert.ok(refusedBy('lib/shell/secret.ts', 'scripts/planted.ts').includes('lib-stays-in-lib'), JSON.stringify(violations, null, 1));
    });

    test('ui importing the transport is refused', () => {
      assert.deepEqual(refusedBy('lib/ui/plain.ts', 'lib/transport/local.ts'), ['only-listed-from-ui']);
    });

    test('the model importing a value of the transport is refused, its type imports are not', () => {
      assert.deepEqual(refusedBy('lib/model/op.ts', 'lib/transport/known-hosts.ts'), ['types-only-from-model']);
      assert.deepEqual(refusedBy('lib/model/op.ts', 'lib/transport/types.ts'), []);
    });

    test('an op importing the runner beyond probe-batch is refused', () => {
      assert.deepEqual(refusedBy('lib/ops/each.ts', 'lib/runner/tags.ts'), ['only-listed-from-ops']);
      assert.deepEqual(refusedBy('lib/ops/each.ts', 'lib/runner/probe-batch.ts'), []);
    });
  });
});
