// npm test runs its unit and lab stages side by side (scripts/test-stages.ts):
// both must really run at once, a failed one must fail the run without
// stopping the other, and the kept stage's output must arrive whole, after
// the streamed one's, never interleaved with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { CI_STAGES, runStages, selectStages, type Stage } from '../../scripts/test-stages.ts';

const node = (name: string, code: string, log?: string): Stage => ({ key: name, name, command: process.execPath, args: ['-e', code], ...(log ? { log } : {}) });

test('the stages run at once: one waits for a file only the other writes; a failed stage fails the run and the other still finishes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stages-'));
  try {
    const flag = JSON.stringify(path.join(dir, 'flag'));
    const done = JSON.stringify(path.join(dir, 'done'));
    // The waiter gives up after 30 s: were the stages run one after the other, it would never see the flag.
    const waiter = node('waiter', `const fs=require('fs');const end=Date.now()+30000;(function poll(){if(fs.existsSync(${flag})){console.log('saw the flag');fs.writeFileSync(${done},'');process.exit(0)}if(Date.now()>end)process.exit(3);setTimeout(poll,20)})()`, path.join(dir, 'logs', 'waiter.log'));
    const writer = node('writer', `require('fs').writeFileSync(${flag},'');console.log('flag written');process.exit(1)`);
    let printed = '';
    const code = await runStages([waiter, writer], (t) => (printed += t));
    assert.equal(code, 1, 'the failed writer fails the run');
    assert.ok(existsSync(path.join(dir, 'done')), 'the waiter saw the flag the writer wrote while it ran');
    assert.match(printed, /ok {5}waiter/);
    assert.match(printed, /FAILED writer/);
    // The streamed stage's line comes before the kept log, which arrives whole under its heading.
    const streamed = printed.indexOf('flag written');
    const kept = printed.indexOf('waiter (kept in');
    assert.ok(streamed >= 0 && kept > streamed, printed);
    assert.ok(printed.indexOf('saw the flag') > kept, 'the kept output is printed after its heading, not as it came');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every stage passing exits 0; a command that cannot start is a failed stage', async () => {
  const quiet = () => undefined;
  assert.equal(await runStages([node('a', 'process.exit(0)'), node('b', 'process.exit(0)')], quiet), 0);
  let printed = '';
  assert.equal(await runStages([node('a', 'process.exit(0)'), { key: 'missing', name: 'missing', command: '/nonexistent/tool', args: [] }], (t) => (printed += t)), 1);
  assert.match(printed, /missing: could not start \/nonexistent\/tool/);
});

test('the unit stage runs every unit, CLI and SSH test file, and the lab stage every lab suite through the lab runner', () => {
  const unit = CI_STAGES.find((s) => s.name === 'unit/CLI/SSH');
  const lab = CI_STAGES.find((s) => s.name === 'lab');
  assert.ok(unit && lab);
  const expected = ['test/unit', 'test/cli', 'test/ssh'].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.test.ts')).map((f) => path.join(d, f)));
  assert.deepEqual(unit.args.filter((a) => a.endsWith('.test.ts')).sort(), expected.sort());
  assert.ok(unit.args.includes('--test-concurrency=1'), 'SSH tests start sshd daemons of their own: one file at a time');
  // The unit stage yields the CPU to the lab stage, the longer one: its processes run at a lower priority than ours.
  const prefix = unit.args.slice(0, unit.args.indexOf(path.join('node_modules', '.bin', 'tsx')));
  const seen = spawnSync(unit.command, [...prefix, process.execPath, '-e', 'console.log(require("os").getPriority())'], { encoding: 'utf8' });
  assert.ok(Number(seen.stdout) > getPriority(), `the unit stage's niceness ${seen.stdout.trim()} is above ours`);
  assert.deepEqual(lab.args, ['scripts/test-lab.ts']);
  assert.equal(lab.log, undefined, 'the lab stage streams, so a long suite shows progress');
});

test("a kept stage's verdict is printed when it ends, not held back until a longer stage ends", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stages-'));
  try {
    const heard = path.join(dir, 'heard');
    // The streamed stage ends only once the kept stage's verdict has been printed (the printer below writes the file).
    const slow = node('slow', `const fs=require('fs');const end=Date.now()+30000;(function poll(){if(fs.existsSync(${JSON.stringify(heard)}))process.exit(0);if(Date.now()>end)process.exit(3);setTimeout(poll,20)})()`);
    const quick = node('quick', "console.log('quick output')", path.join(dir, 'quick.log'));
    let printed = '';
    const code = await runStages([quick, slow], (t) => {
      printed += t;
      if (/quick: passed in [\d.]+ min/.test(printed)) writeFileSync(heard, '');
    });
    assert.equal(code, 0, printed);
    assert.ok(printed.indexOf('quick: passed') < printed.indexOf('quick (kept in'), 'the verdict comes first, the whole log at the end');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a kept log that cannot be written fails its stage, naming the log, and the other stage still runs to its end', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stages-'));
  try {
    const log = path.join(dir, 'log-is-a-directory');
    mkdirSync(log);
    const done = path.join(dir, 'done');
    let printed = '';
    const code = await runStages([node('kept', "console.log('x')", log), node('other', `require('fs').writeFileSync(${JSON.stringify(done)}, '')`)], (t) => (printed += t));
    assert.equal(code, 1);
    assert.match(printed, new RegExp(`kept: its log ${log.replace(/[.]/g, '\\.')} could not be written: EISDIR`));
    assert.match(printed, /FAILED kept/);
    assert.match(printed, /ok {5}other/);
    assert.ok(existsSync(done));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RIGGER_TEST_STAGES picks stages by key; unset or empty is every stage; an unknown key is refused naming the known ones', () => {
  assert.deepEqual(selectStages(CI_STAGES, 'unit').map((s) => s.key), ['unit']);
  assert.deepEqual(selectStages(CI_STAGES, ' lab , unit ').map((s) => s.key), ['unit', 'lab']);
  assert.equal(selectStages(CI_STAGES, undefined).length, CI_STAGES.length);
  assert.equal(selectStages(CI_STAGES, '').length, CI_STAGES.length);
  assert.throws(() => selectStages(CI_STAGES, 'unit,labs'), /names no stage labs \(the stages: unit, lab\)/);
});
