// A controller killed (SIGKILL) in the middle of a run leaves a run record
// that reads (issue 32: written whole and renamed into place), and
// --resume finishes the run: each host from the task it had not finished,
// the task before it not run again. Local hosts: the record is the
// controller's, the transport does not matter here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRecord } from '../../lib/runs/record-format.ts';
import { localInventory } from '../helpers/run.ts';
import { eventually } from '../helpers/stream.ts';
import { pathToFileURL } from 'node:url';

const SLOW = path.resolve('test/fixtures/playbooks/slow.ts');
/** tsx's loader in the controller's own process (the tsx command runs it in a child), so SIGKILL hits the controller itself. */
const NODE_ARGS = ['--import', pathToFileURL(path.resolve('node_modules/tsx/dist/esm/index.mjs')).href, SLOW];

/** Unique to this test run, so only its own sleeps are found and ended. */
const SLEEP = `sleep 30.${process.pid}`;

function pgrepExact(command: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `^${command.replace(/\./g, '\\.')}$`], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface Controller {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Resolves once stdout holds the text. */
  printed(text: string): Promise<void>;
}

/** The playbook run by node in a project directory, where its .rigger/runs/ goes. */
function controller(cwd: string, args: string[], env: Record<string, string>): Controller {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (c) => {
    stdout += c;
    for (const w of waiting.splice(0)) if (stdout.includes(w.text)) w.resolve();
    else waiting.push(w);
  });
  child.stderr!.on('data', (c) => (stderr += c));
  return {
    child,
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
    printed: (text) => (stdout.includes(text) ? Promise.resolve() : new Promise((resolve) => waiting.push({ text, resolve }))),
  };
}

test('a controller killed mid-run leaves a readable record; --resume runs each host from the task it had not finished', async () => {
  const project = mkdtempSync(path.join(tmpdir(), 'rigger-killed-'));
  try {
    const inventory = localInventory(['h1', 'h2']);
    const run = controller(project, ['-i', inventory, '--json'], { SLOW_COMMAND: SLEEP });
    await run.printed('"type":"task-start","play":"slow","task":"slow"');
    const runs = path.join(project, '.rigger', 'runs');
    const ids = readdirSync(runs);
    assert.equal(ids.length, 1);
    const dir = path.join(runs, ids[0]!);
    // The record follows the run within a quarter second, also while a long task runs.
    await eventually(() => /"name":"before"/.test(readFileSync(path.join(dir, 'run.json'), 'utf8')), 10_000, 'the record to show "before" done');
    run.child.kill('SIGKILL');
    await run.done;
    assert.deepEqual(readdirSync(dir), ['run.json'], 'no temp file, one whole record');
    const record = parseRecord(readFileSync(path.join(dir, 'run.json'), 'utf8'), 'run.json');
    assert.equal(record.state, 'running', 'the controller never finished');
    for (const h of ['h1', 'h2']) {
      assert.equal(record.hosts[h]!.status, 'running');
      assert.equal(record.hosts[h]!.done?.name, 'before', `${h} had finished "before" and nothing after`);
    }

    const resumed = await controller(project, ['-i', inventory, '--resume'], { SLOW_COMMAND: 'true' }).done;
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, new RegExp(`RESUME of run ${ids[0]}: 2 host\\(s\\) run again`));
    for (const h of ['h1', 'h2']) assert.match(resumed.stdout, new RegExp(`  ${h} from task 2 "slow" of play 1 "slow"`));
    const ran = resumed.stdout.split('\n').filter((l) => /^(ok|changed|failed): \[/.test(l)).map((l) => l.replace(/ \(.*$/, ''));
    assert.deepEqual(ran.sort(), ['changed: [h1] after', 'changed: [h1] slow', 'changed: [h2] after', 'changed: [h2] slow']);
  } finally {
    // The killed controller's local commands outlive it (its watchdog is the SSH channel's): ended here by their ids.
    for (const pid of pgrepExact(SLEEP)) process.kill(pid, 'SIGKILL');
    rmSync(project, { recursive: true, force: true });
  }
});
