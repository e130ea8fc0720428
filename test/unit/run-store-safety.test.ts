// The run store's guards: a newer record it cannot read is named and
// stops --resume from taking an older run; unreadable records are pruned
// within the bound; a record whose controller still runs is not resumed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay } from '../../lib/model/play.ts';
import { KEEP_PER_PLAYBOOK, newRunId, RunStore } from '../../lib/runs/run-store.ts';
import { localHosts, runOnce, sh } from '../helpers/resume-run.ts';

const failing = (dir: string) => [definePlay({ name: 'p', hosts: 'all', tasks: () => [sh('gate', (h) => `test ! -e ${dir}/bad-${h.name}`)] })];

test('a newer record that cannot be read is named, and --resume takes no older run unless given its id', async () => {
  const { dir, inventoryFile, store } = localHosts(['a', 'b']);
  writeFileSync(`${dir}/bad-b`, '');
  const first = await runOnce(inventoryFile, failing(dir), store, undefined);
  const damaged = newRunId(new Date(Date.now() + 60_000));
  mkdirSync(path.join(store.root, damaged));
  writeFileSync(path.join(store.root, damaged, 'run.json'), '{"format": "rigger-run-record", "version": 1, "id": "tor');
  await assert.rejects(
    runOnce(inventoryFile, failing(dir), store, ''),
    (e: Error & { exitCode?: number }) => e.exitCode === 4 && e.message.includes(damaged) && e.message.includes(`the older run ${first.id}`) && /--resume RUN_ID/.test(e.message),
  );
  rmSync(`${dir}/bad-b`);
  const given = await runOnce(inventoryFile, failing(dir), store, first.id);
  assert.deepEqual(given.ran, ['b gate changed']);
});

test('records no one can read are pruned beyond the bound', async () => {
  const { dir, inventoryFile, store } = localHosts(['a']);
  const base = Date.UTC(2026, 0, 1);
  const ids: string[] = [];
  for (let i = 0; i < KEEP_PER_PLAYBOOK + 4; i++) {
    const id = newRunId(new Date(base + i * 1000));
    ids.push(id);
    mkdirSync(path.join(store.root, id), { recursive: true });
    writeFileSync(path.join(store.root, id, 'run.json'), 'not json');
  }
  await runOnce(inventoryFile, failing(dir), store, undefined);
  const left = readdirSync(store.root);
  assert.equal(left.length, KEEP_PER_PLAYBOOK + 1, 'the newest 20 unreadable ones and the run just made');
  assert.deepEqual(ids.filter((id) => left.includes(id)), ids.slice(4), 'the oldest 4 are gone');
});

test('a run whose controller is still going is not resumed; once that process is gone, it is', async () => {
  const { dir, inventoryFile, store } = localHosts(['a', 'b']);
  writeFileSync(`${dir}/bad-b`, '');
  const first = await runOnce(inventoryFile, failing(dir), store, undefined, { killed: true });
  const controller = spawn('sleep', ['300'], { stdio: 'ignore' });
  try {
    store.write({ ...store.read(first.id!), pid: controller.pid! });
    await assert.rejects(runOnce(inventoryFile, failing(dir), store, ''), (e: Error & { exitCode?: number }) => e.exitCode === 4 && e.message.includes(`run ${first.id} is still going (controller pid ${controller.pid})`));
  } finally {
    controller.kill('SIGKILL');
    await once(controller, 'exit');
  }
  rmSync(`${dir}/bad-b`);
  assert.deepEqual((await runOnce(inventoryFile, failing(dir), store, '')).ran, ['b gate changed']);
});

test('a run that has ended is free to resume although its pid lives on (this very process)', async () => {
  const { dir, inventoryFile, store } = localHosts(['a']);
  writeFileSync(`${dir}/bad-a`, '');
  const done = await runOnce(inventoryFile, failing(dir), store, undefined);
  assert.equal(store.read(done.id!).pid, process.pid);
  assert.equal(store.runningPid(done.id!), undefined);
  assert.deepEqual(readdirSync(path.join(store.root, done.id!)), ['run.json'], 'no lock file to clean up');
});

test('the store follows RIGGER_RUNS_DIR (a scheduled job keeps its records out of its release) and creates it 0700', async () => {
  const root = path.join(localHosts([]).dir, 'state', 'runs');
  process.env.RIGGER_RUNS_DIR = root;
  try {
    const store = new RunStore();
    assert.equal(store.root, root);
    const { dir, inventoryFile } = localHosts(['a']);
    const ran = await runOnce(inventoryFile, failing(dir), store, undefined);
    assert.ok(existsSync(store.fileOf(ran.id!)));
    assert.equal(statSync(root).mode & 0o777, 0o700);
  } finally {
    delete process.env.RIGGER_RUNS_DIR;
  }
});
