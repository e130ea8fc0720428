// Runs the lab suites one at a time, in the order below, and prints each
// suite's time. Node's test runner sorts the files it is given by name, so an
// order written in `tsx --test a b c` never applies; this runner exists to
// hand a converged lab from one suite to the next instead of converging it
// again (a cold converge is about 80 s of CI's time). Every suite still
// checks the lab's state itself and passes alone.
//   npx tsx scripts/test-lab.ts            every suite, in LAB_SUITE_ORDER
//   npx tsx scripts/test-lab.ts day-two    the named suites, in the order given
// A failed suite does not stop the ones after it; the exit code is 1 when any failed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The lab suites (file names under test/lab/, without `.test.ts`), grouped by the lab state they start from. */
export const LAB_SUITE_ORDER: readonly string[] = [
  // Fresh nodes: `lab` and `facts` reset them first; the op suites and the kernel preflight run on what `facts` left.
  'lab',
  'facts',
  'ops-apt',
  'ops-command',
  'ops-files',
  'ops-firewall',
  'ops-system',
  'ops-users',
  'preflight-kernel',
  // The other layouts, on hosts of their own (the swarm nodes are left alone); core-edge and single-server put theirs back to fresh when done.
  'compose-quoting',
  'core-edge',
  'single-server',
  // One converge: `cluster` resets and converges, and each suite after it reuses the converged lab it finds.
  'cluster',
  'day-two',
  'scheduled',
  'swarm-safety',
  'monitoring',
  'first-run',
  // Their own data: backup and recovery reuse the converged lab with every earlier suite's data emptied
  // (recovery's drills then reset the nodes themselves).
  'backup',
  'recovery',
  // The rehearsal of the real cluster: `rehearsal` resets the nodes, makes them the real cluster's and converges
  // (SGLang's stand-in loading for the real model's 120 s); the suites after it reuse that converge.
  'rehearsal',
  'rehearsal-plans',
  'rehearsal-lab-remote',
  'rehearsal-alerts',
  'rehearsal-standins',
  'rehearsal-swarm-from',
  'rehearsal-pitr',
  'rehearsal-backup-copies',
  'rehearsal-offsite',
  'rehearsal-resume',
  // Loses one node, then every node, and recovers the rehearsal with a stand-in model that loads for seconds
  // (`rehearse --model-load`); the suites after it reuse the recovered rehearsal, so each of their SGLang
  // restarts waits seconds, not the 120 s no assertion of theirs is about.
  'rehearsal-recovery',
  'rehearsal-scale',
  // Last: it leaves SGLang loading on its way back, which no suite after it waits for.
  'rehearsal-deploy-window',
];

export const suiteFile = (name: string) => path.join('test', 'lab', `${name}.test.ts`);

interface SuiteResult {
  name: string;
  ok: boolean;
  seconds: number;
}

function runSuite(name: string, fileOf: (name: string) => string): SuiteResult {
  const started = process.hrtime.bigint();
  // Without the parent test runner's NODE_TEST_CONTEXT: a child that sees it reports to that parent and exits 0 even when its tests fail.
  const { NODE_TEST_CONTEXT: _parent, ...env } = process.env;
  const r = spawnSync(path.join('node_modules', '.bin', 'tsx'), ['--test', '--test-concurrency=1', fileOf(name)], { stdio: 'inherit', env });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, ok: r.status === 0, seconds };
}

/** Runs each suite in turn, a failed one not stopping the rest; prints the times; 0 when all passed, else 1. */
export function runSuites(names: readonly string[], fileOf: (name: string) => string = suiteFile): number {
  const results = names.map((n) => runSuite(n, fileOf));
  const total = results.reduce((s, r) => s + r.seconds, 0);
  console.log('\nlab suites, in the order run:');
  for (const r of results) console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.name.padEnd(18)} ${r.seconds.toFixed(0).padStart(5)} s`);
  console.log(`  ${results.filter((r) => r.ok).length}/${results.length} suites passed in ${(total / 60).toFixed(1)} min`);
  return results.every((r) => r.ok) ? 0 : 1;
}

function main(args: string[]): number {
  const unknown = args.filter((a) => !LAB_SUITE_ORDER.includes(a));
  if (unknown.length) {
    console.error(`test-lab: no lab suite named ${unknown.join(', ')} (the suites: ${LAB_SUITE_ORDER.join(', ')})`);
    return 2;
  }
  return runSuites(args.length ? args : LAB_SUITE_ORDER);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.slice(2));
