// --resume after failures that the record once lost: a block's failure
// followed by a failing rescue or always, a controller killed after a host
// failed, a resume narrowed by --limit, and a second resume that reads the
// results of a host the first resume did not run (real runner, local hosts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay } from '../../lib/model/play.ts';
import { block, task, type Item } from '../../lib/model/task.ts';
import * as ops from '../../lib/public-ops.ts';
import { Inventory } from '../../lib/inventory/inventory.ts';
import { prepareRecording } from '../../lib/cli/run-record.ts';
import { localHosts, runOnce, sh } from '../helpers/resume-run.ts';

const log = (dir: string, host: string) => (existsSync(path.join(dir, `${host}.log`)) ? readFileSync(path.join(dir, `${host}.log`), 'utf8') : '');

test('a block whose body failed and whose rescue failed too: --resume runs the block again, its rescue with it', async () => {
  const { dir, inventoryFile, store } = setup(['a', 'b']);
  const list = () => [
    allHosts('p', () => [
        sh('t0', () => 'true'),
        block({
          name: 'blk',
          block: [sh('body', (h) => `test ! -e ${dir}/bad-${h.name}`)],
          rescue: [sh('rescue', (h) => `test ! -e ${dir}/badrescue-${h.name} && echo rescued >> ${dir}/${h.name}.log`)],
          always: [sh('always', () => 'true')],
        }),
        sh('after', (h) => `echo after >> ${dir}/${h.name}.log`),
      ]),
  ];
  writeFileSync(`${dir}/bad-b`, '');
  writeFileSync(`${dir}/badrescue-b`, '');
  const first = await runOnce(inventoryFile, list(), store, undefined);
  assert.equal(first.code, 2);
  assert.equal(store.read(first.id!).hosts.b!.stoppedAt?.name, 'body', 'the earliest failure the rescue did not rescue');
  rmSync(`${dir}/badrescue-b`);
  const resumed = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(resumed.ran, ['b body failed', 'b rescue changed', 'b always changed', 'b after changed']);
  assert.equal(resumed.code, 0);
  assert.equal(log(dir, 'b'), 'rescued\nafter\n');
});

test('a block whose body and always both failed: --resume runs the body again, and fails while the bad state stays', async () => {
  const { dir, inventoryFile, store } = setup(['a', 'b']);
  const list = () => [
    allHosts('p', () => [
        block({
          name: 'blk',
          block: [sh('t1', (h) => `test ! -e ${dir}/bad-${h.name}`), sh('t2', (h) => `echo t2 >> ${dir}/${h.name}.log`)],
          always: [sh('cleanup', (h) => `test ! -e ${dir}/badclean-${h.name}`)],
        }),
        sh('after', (h) => `echo after >> ${dir}/${h.name}.log`),
      ]),
  ];
  writeFileSync(`${dir}/bad-b`, '');
  writeFileSync(`${dir}/badclean-b`, '');
  await runOnce(inventoryFile, list(), store, undefined);
  rmSync(`${dir}/badclean-b`);
  const resumed = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(resumed.ran, ['b t1 failed', 'b cleanup changed']);
  assert.equal(resumed.code, 2, 'the state is still bad: the resume fails');
  assert.equal(log(dir, 'b'), '');
  rmSync(`${dir}/bad-b`);
  const fixed = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(fixed.ran, ['b t1 changed', 'b t2 changed', 'b cleanup changed', 'b after changed']);
  assert.equal(fixed.code, 0);
});

test('a rescued failure is not a stop: a later failure of the host is where it resumes', async () => {
  const { dir, inventoryFile, store } = setup(['a']);
  const list = () => [
    allHosts('p', () => [
        block({ name: 'blk', block: [sh('body', () => 'false')], rescue: [sh('rescue', () => 'true')] }),
        sh('later', (h) => `test ! -e ${dir}/bad-${h.name}`),
      ]),
  ];
  writeFileSync(`${dir}/bad-a`, '');
  const first = await runOnce(inventoryFile, list(), store, undefined);
  assert.equal(store.read(first.id!).hosts.a!.stoppedAt?.name, 'later');
  rmSync(`${dir}/bad-a`);
  assert.deepEqual((await runOnce(inventoryFile, list(), store, '')).ran, ['a later changed']);
});

test('a host failed, then the controller was killed in a later play: the record says failed, and --resume runs it from the failure', async () => {
  const { dir, inventoryFile, store } = setup(['a', 'b']);
  const list = () => [
    allHosts('p1', () => [block({ name: 'blk', block: [sh('t1', (h) => `test ! -e ${dir}/bad-${h.name}`), sh('t2', (h) => `echo t2 >> ${dir}/${h.name}.log`)], always: [sh('always', () => 'true')] })]),
    allHosts('p2', () => [sh('later', () => 'true')]),
  ];
  writeFileSync(`${dir}/bad-b`, '');
  const first = await runOnce(inventoryFile, list(), store, undefined, { killed: true });
  const b = store.read(first.id!).hosts.b!;
  assert.equal(b.status, 'failed');
  assert.equal(b.stoppedAt?.name, 't1');
  rmSync(`${dir}/bad-b`);
  const resumed = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(
    resumed.ran.filter((r) => r.startsWith('b ')),
    ['b t1 changed', 'b t2 changed', 'b always changed', 'b later changed'],
  );
  assert.equal(log(dir, 'b'), 't2\n');
});

test('--resume --limit runs some of the failed hosts: the others keep their stop, and the next --resume runs them from it', async () => {
  const { dir, inventoryFile, store } = setup(['a', 'b', 'c']);
  const list = () => [
    allHosts('p', () => [block({ name: 'blk', block: [sh('t1', (h) => `test ! -e ${dir}/bad-${h.name}`), sh('t2', (h) => `echo t2 >> ${dir}/${h.name}.log`)], always: [sh('always', () => 'true')] }), sh('after', () => 'true')]),
  ];
  writeFileSync(`${dir}/bad-b`, '');
  writeFileSync(`${dir}/bad-c`, '');
  await runOnce(inventoryFile, list(), store, undefined);
  rmSync(`${dir}/bad-b`);
  rmSync(`${dir}/bad-c`);
  const onlyB = await runOnce(inventoryFile, list(), store, '', { limit: 'b' });
  assert.deepEqual(onlyB.ran, ['b t1 changed', 'b t2 changed', 'b always changed', 'b after changed']);
  const record = store.read(onlyB.id!);
  assert.equal(record.hosts.c!.status, 'failed');
  assert.equal(record.hosts.c!.stoppedAt?.name, 't1');
  const rest = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(rest.ran, ['c t1 changed', 'c t2 changed', 'c always changed', 'c after changed']);
  assert.equal(log(dir, 'c'), 't2\n');
});

test('a resumed host killed before its first task keeps its stop: the next --resume starts it there again', async () => {
  const { dir, inventoryFile, store } = setup(['a', 'b']);
  const list = () => [allHosts('p', () => [sh('t1', (h) => `test ! -e ${dir}/bad-${h.name}`), sh('t2', (h) => `echo t2 >> ${dir}/${h.name}.log`)])];
  writeFileSync(`${dir}/bad-b`, '');
  const first = await runOnce(inventoryFile, list(), store, undefined);
  // The resume is killed before b ran anything: its record is the one written at the start.
  const killed = await runOnce(inventoryFile, list(), store, '', { killedAtStart: true });
  const record = store.read(killed.id!);
  assert.equal(record.resumedFrom, first.id);
  assert.equal(record.hosts.b!.stoppedAt?.name, 't1');
  rmSync(`${dir}/bad-b`);
  assert.deepEqual((await runOnce(inventoryFile, list(), store, '')).ran, ['b t1 changed', 'b t2 changed']);
});

test('a second --resume reads the results of a host that no resume ran (h.resultOf)', async () => {
  const { dir, inventoryFile, store } = setup(['a', 'b']);
  const list = () => {
    const mark = sh('mark', (h) => `echo v-${h.name}`);
    return [
      allHosts('p', () => [
          mark,
          sh('gate', (h) => `test ! -e ${dir}/bad-${h.name}`),
          task({ name: 'reads a', when: (h) => String(h.resultOf('a', mark)?.stdout ?? '').includes('v-a'), op: (h) => ops.shell({ script: `echo read >> ${dir}/${h.name}.log` }) }),
        ]),
    ];
  };
  writeFileSync(`${dir}/bad-b`, '');
  await runOnce(inventoryFile, list(), store, undefined);
  const still = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(still.ran, ['b gate failed']);
  const record = store.read(still.id!);
  assert.equal(record.hosts.a!.status, 'ok', 'a is carried over, with its results');
  assert.ok(record.hosts.a!.results.some((r) => r.task.name === 'mark'));
  rmSync(`${dir}/bad-b`);
  const fixed = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(fixed.ran, ['b gate changed', 'b reads a changed']);
  assert.equal(log(dir, 'b'), 'read\n');
  assert.equal(log(dir, 'a'), 'read\n', 'a ran only in the first run');
});

/** A play on every host of the inventory. */
function allHosts(name: string, tasks: () => Item[]) {
  return definePlay({ name, hosts: 'all', tasks });
}

function setup(hosts: string[]) {
  return localHosts(hosts);
}

test('a resumed task that delegates to a host not resumed runs there, and that host runs nothing of its own', async () => {
  const { dir, inventoryFile, store } = setup(['a', 'b']);
  const list = () => [
    allHosts('p', () => [
        sh('gate', (h) => `test ! -e ${dir}/bad-${h.name}`),
        task({ name: 'label on a', delegateTo: () => 'a', op: (h) => ops.shell({ script: `echo label-${h.name} >> ${dir}/delegated.log` }) }),
      ]),
  ];
  writeFileSync(`${dir}/bad-b`, '');
  await runOnce(inventoryFile, list(), store, undefined);
  rmSync(`${dir}/bad-b`);
  const resumed = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(resumed.ran, ['b gate changed', 'b label on a changed']);
  const delegated = resumed.events.find((e) => e.type === 'task-host' && e.task === 'label on a');
  assert.equal(delegated?.type === 'task-host' ? delegated.delegatedTo : undefined, 'a');
  assert.equal(readFileSync(path.join(dir, 'delegated.log'), 'utf8'), 'label-a\nlabel-b\n');
});

test('after an interrupt, a host that had gone through all its plays is ok; one kept from a play is unfinished', () => {
  const { store } = setup([]);
  const list = [
    definePlay({ name: 'one', hosts: 'a', tasks: () => [sh('t', () => 'true')] }),
    definePlay({ name: 'two', hosts: 'b', tasks: () => [sh('t', () => 'true')] }),
  ];
  const recording = prepareRecording({ resume: undefined, resumeAnyway: false, record: true, plays: list, playbook: 'pb.ts', entry: undefined, inventory: new Inventory(), inventoryFiles: [], extraVars: new Map(), store });
  const recorder = recording.recorder!;
  recorder.starting([['a'], ['b']]);
  recorder.playEnded(0, ['a']);
  const counts = { ok: 1, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
  recorder.finish(new Map([['a', counts], ['b', { ...counts, ok: 0 }]]), true);
  recorder.save(true);
  const record = store.read(recorder.record.id);
  assert.equal(record.state, 'interrupted');
  assert.equal(record.hosts.a!.status, 'ok');
  assert.equal(record.hosts.b!.status, 'running');
});
