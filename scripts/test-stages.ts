// `npm test`'s last step: the unit/CLI/SSH stage and the lab stage run side
// by side. The lab stage spends about half its time waiting on the lab's
// nodes (apt, Docker, health windows, Swarm's update monitors, alert `for:`
// durations), with this machine's cores mostly idle; the unit stage needs
// about one core for ten minutes and no Docker engine, no lab file and no
// fixed port, so it fits in those waits instead of running before them.
// The lab stage streams its output; the unit stage's is kept in a log file
// and printed whole when every stage has ended, so the two never interleave.
//   npx tsx scripts/test-stages.ts
//   RIGGER_TEST_STAGES=unit npm test     only the named stages (unit, lab), as
//                                        scripts/fresh-machine.ts runs it where no Docker runs
// The exit code is 1 when any stage failed, 2 for an unknown stage name.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Stage {
  /** What RIGGER_TEST_STAGES calls it. */
  key: string;
  name: string;
  command: string;
  args: string[];
  /** Keep the stage's output in this file and print it when every stage has ended; without it, the output streams. */
  log?: string;
}

interface StageResult {
  name: string;
  ok: boolean;
  seconds: number;
}

const tsx = path.join('node_modules', '.bin', 'tsx');
/** `DIR/*.test.ts` as the shell expands it (Node 20's runner takes no globs). */
const testFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(dir, f));

/** The stages of `npm test`, after the type check and the lints. */
export const CI_STAGES: readonly Stage[] = [
  {
    key: 'unit',
    name: 'unit/CLI/SSH',
    // Niced: the lab stage is the longer one, so its controller-side work (playbook runs, SSH) goes first
    // and the unit stage takes the cycles left; it has half an hour of slack beside the lab.
    command: 'nice',
    args: ['-n', '10', tsx, '--test', '--test-concurrency=1', ...['test/unit', 'test/cli', 'test/ssh'].flatMap(testFiles)],
    log: path.join('test-artifacts', 'unit-stage.log'),
  },
  { key: 'lab', name: 'lab', command: tsx, args: ['scripts/test-lab.ts'] },
];

function runStage(stage: Stage, out: (text: string) => void): Promise<StageResult> {
  const started = process.hrtime.bigint();
  // Without a parent test runner's NODE_TEST_CONTEXT: a child that sees it reports to that parent and exits 0 even when its tests fail.
  const { NODE_TEST_CONTEXT: _parent, ...env } = process.env;
  const child = spawn(stage.command, stage.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let sink: (chunk: Buffer) => void = (chunk) => out(chunk.toString('utf8'));
  let closeLog = () => Promise.resolve();
  let logFailed: string | undefined;
  if (stage.log) {
    mkdirSync(path.dirname(stage.log), { recursive: true });
    const file = createWriteStream(stage.log);
    // A log that cannot be written (a full disk) fails the stage, named, instead of crashing the runner beside a running stage.
    file.on('error', (e) => (logFailed ??= e.message));
    sink = (chunk) => void (logFailed === undefined && file.write(chunk));
    closeLog = () => new Promise((resolve) => (logFailed === undefined ? file.end(resolve) : resolve()));
    out(`${stage.name}: started beside the others; its output follows when every stage has ended (and is in ${stage.log})\n`);
  }
  child.stdout.on('data', sink);
  child.stderr.on('data', sink);
  return new Promise((resolve) => {
    const finish = async (ok: boolean) => {
      await closeLog();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (logFailed !== undefined) out(`${stage.name}: its log ${stage.log} could not be written: ${logFailed}\n`);
      const passed = ok && logFailed === undefined;
      // A kept stage's verdict is said when it ends, so a later stage that hangs does not hide it.
      if (stage.log) out(`${stage.name}: ${passed ? 'passed' : 'FAILED'} in ${(seconds / 60).toFixed(1)} min (output in ${stage.log})\n`);
      resolve({ name: stage.name, ok: passed, seconds });
    };
    child.on('error', (e) => {
      sink(Buffer.from(`${stage.name}: could not start ${stage.command}: ${e.message}\n`));
      void finish(false);
    });
    child.on('close', (code) => void finish(code === 0));
  });
}

const readKept = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    return `(unreadable: ${(e as Error).message})\n`;
  }
};

/** The stages RIGGER_TEST_STAGES names (comma-separated keys), else every stage; an unknown key is an error naming the known ones. */
export function selectStages(stages: readonly Stage[], wanted: string | undefined): readonly Stage[] {
  if (wanted === undefined || wanted.trim() === '') return stages;
  const keys = wanted.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = keys.filter((k) => !stages.some((s) => s.key === k));
  if (unknown.length) throw new Error(`RIGGER_TEST_STAGES names no stage ${unknown.join(', ')} (the stages: ${stages.map((s) => s.key).join(', ')})`);
  return stages.filter((s) => keys.includes(s.key));
}

/** Runs the stages at once, prints the kept logs and each stage's time; 0 when all passed, else 1. */
export async function runStages(stages: readonly Stage[], out: (text: string) => void = (t) => void process.stdout.write(t)): Promise<number> {
  const started = process.hrtime.bigint();
  const results = await Promise.all(stages.map((s) => runStage(s, out)));
  for (const s of stages) if (s.log) out(`\n${s.name} (kept in ${s.log}):\n${readKept(s.log)}`);
  out('\nstages, run side by side:\n');
  for (const r of results) out(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.name.padEnd(14)} ${(r.seconds / 60).toFixed(1).padStart(5)} min\n`);
  out(`  all stages ended in ${(Number(process.hrtime.bigint() - started) / 6e10).toFixed(1)} min\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let stages: readonly Stage[] = [];
  try {
    stages = selectStages(CI_STAGES, process.env.RIGGER_TEST_STAGES);
  } catch (e) {
    console.error(`test-stages: ${(e as Error).message}`);
    process.exitCode = 2;
  }
  if (stages.length) runStages(stages).then((code) => (process.exitCode = code));
}
