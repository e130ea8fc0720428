// The run record of --resume (issue 32): its versioned format, the store's
// atomic writes and bound, the exclusion of secrets in every form, task
// identities, and a record resumed by the real runner on local hosts.
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { definePlay, type Play } from '../../lib/model/play.ts';
import { defineOp } from '../../lib/model/op.ts';
import { block, handler, task } from '../../lib/model/task.ts';
import { secret } from '../../lib/shell/secret.ts';
import { encryptValue } from '../../lib/shell/vault.ts';
import { z } from '../../lib/shell/zod.ts';
import * as ops from '../../lib/public-ops.ts';
import { parseCli } from '../../lib/cli/args.ts';
import { prepareRecording } from '../../lib/cli/run-record.ts';
import { runOnce } from '../helpers/resume-run.ts';
import { parseRecord, RECORD_VERSION, RecordFormatError, serializeRecord, type RunRecord } from '../../lib/runs/record-format.ts';
import { decodeResult, encodeResult, MAX_RESULT_BYTES } from '../../lib/runs/result-codec.ts';
import { KEEP_PER_PLAYBOOK, newRunId, RunStore } from '../../lib/runs/run-store.ts';
import { identitiesOf } from '../../lib/runs/task-identity.ts';
import { ResumePlanner } from '../../lib/runs/resume-planner.ts';
import { leaks } from '../helpers/secret-forms.ts';

function emptyRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    format: 'rigger-run-record',
    version: RECORD_VERSION,
    id: newRunId(),
    playbook: 'playbooks/site.ts',
    inventory: ['inventory/lab.yml'],
    startedAt: new Date().toISOString(),
    state: 'finished',
    fingerprints: { playbook: {}, inventory: {}, variables: {} },
    hosts: {},
    ...over,
  };
}

test('a record of another format version is refused with a message that says which and what to do', () => {
  const text = serializeRecord(emptyRecord());
  assert.equal(parseRecord(text, 'run.json').version, RECORD_VERSION);
  const newer = text.replace(`"version":${RECORD_VERSION}`, `"version":${RECORD_VERSION + 1}`);
  assert.throws(() => parseRecord(newer, 'x/run.json'), (e: Error) => e instanceof RecordFormatError && /x\/run\.json: run record format version 2 was written by a newer rigger; this one reads version 1/.test(e.message));
  const older = text.replace(`"version":${RECORD_VERSION}`, '"version":0');
  assert.throws(() => parseRecord(older, 'run.json'), /format version 0 is older than this rigger reads \(version 1\)/);
  assert.throws(() => parseRecord('{"version": 1}', 'run.json'), /not a run record/);
  assert.throws(() => parseRecord('{"format": "rigger-run-record"}', 'run.json'), /without a version number/);
  assert.throws(() => parseRecord('{', 'run.json'), /not a run record/);
});

test('--resume of a record of a newer format is refused at the command line (exit 4 through InputError)', () => {
  const store = new RunStore(mkdtempSync(path.join(tmpdir(), 'rigger-runs-')));
  const record = emptyRecord();
  store.write(record);
  const file = store.fileOf(record.id);
  writeFileSync(file, readFileSync(file, 'utf8').replace('"version":1', '"version":7'));
  assert.throws(
    () => prepareRecording({ resume: record.id, resumeAnyway: false, record: false, plays: [], playbook: 'p.ts', entry: undefined, inventory: { hosts: new Map(), hostNames: () => [], varsFor: () => new Map(), groupsOf: () => new Set() } as never, inventoryFiles: [], extraVars: new Map(), store }),
    (e: Error & { exitCode?: number }) => e.exitCode === 4 && /version 7 was written by a newer rigger/.test(e.message),
  );
});

test('the store writes whole records only, readable by the owner alone, and keeps the last 20 per playbook', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'rigger-runs-'));
  const store = new RunStore(root);
  const base = Date.UTC(2026, 0, 1);
  const ids: string[] = [];
  for (let i = 0; i < KEEP_PER_PLAYBOOK + 3; i++) {
    const r = emptyRecord({ id: newRunId(new Date(base + i * 1000)) });
    store.write(r);
    store.write(r);
    ids.push(r.id);
  }
  const other = emptyRecord({ id: newRunId(new Date(base)), playbook: 'playbooks/backup.ts' });
  store.write(other);
  for (const id of ids) assert.deepEqual(readdirSync(path.join(root, id)), ['run.json'], 'no temp file is left beside a record');
  assert.equal(statSync(store.fileOf(ids[0]!)).mode & 0o777, 0o600);
  const removed = store.prune('playbooks/site.ts');
  assert.deepEqual(removed.sort(), ids.slice(0, 3).sort(), 'the three oldest of that playbook');
  assert.equal(store.list().filter((r) => r.playbook === 'playbooks/site.ts').length, KEEP_PER_PLAYBOOK);
  assert.ok(existsSync(store.fileOf(other.id)), "another playbook's record is kept");
  assert.equal(store.last('playbooks/site.ts', ['inventory/lab.yml'])!.id, ids.at(-1));
});

test('results go through the record with their types: buffers, maps, dates, nested values', () => {
  const value = { stdout: Buffer.from([0, 1, 254, 255]), when: new Date(0), seen: new Map([['a', new Set([1, 2])]]), list: [1, 'two', null, { deep: true }], $rigger: 'mine', n: 10n };
  const out = encodeResult(value);
  assert.ok('value' in out);
  const back = decodeResult(JSON.parse(JSON.stringify(out.value))) as typeof value;
  assert.deepEqual(back, value);
});

test('a result holding a secret in any form is withheld: a Secret, plain, base64 at any offset, hex, a digest, inside a buffer, deep in a value', () => {
  const s = secret('hunter2-resume-Secret');
  const v = s.reveal();
  const b64 = (pad: string) => Buffer.from(pad + v).toString('base64');
  const cases: [string, unknown][] = [
    ['a Secret deep inside', { a: [{ b: s }] }],
    ['plain in a string', { stdout: `password is ${v}\n` }],
    ['base64, offset 0', b64('')],
    ['base64, offset 1', { x: ['prefix', b64('x')] }],
    ['base64, offset 2', b64('xy')],
    ['hex', Buffer.from(v).toString('hex')],
    ['sha256', { digest: createHash('sha256').update(v).digest('hex') }],
    ['in a buffer', { stdout: Buffer.from(`token=${v}`) }],
    ['as a key', { [v]: 1 }],
    ['in an error', new Error(`bad ${v}`)],
  ];
  for (const [what, value] of cases) assert.deepEqual(encodeResult(value), { withheld: 'secret' }, what);
  assert.ok('value' in encodeResult({ stdout: 'nothing secret here' }));
});

test('a result larger than a record keeps is withheld for its size', () => {
  assert.ok('value' in encodeResult({ stdout: 'x'.repeat(MAX_RESULT_BYTES - 100) }));
  assert.deepEqual(encodeResult({ stdout: 'x'.repeat(MAX_RESULT_BYTES + 1) }), { withheld: 'size' });
});

test('task identities: play index and path through blocks, rescue and always; the same after a rebuild', () => {
  const build = () => [
    definePlay({ name: 'one', hosts: 'all', tasks: () => [task({ name: 'a', op: ops.command({ argv: ['true'] }) })] }),
    definePlay({
      name: 'two',
      hosts: 'all',
      tasks: () => [
        task({ name: 'b', op: ops.command({ argv: ['true'] }) }),
        block({ name: 'blk', block: [task({ name: 'c', op: ops.command({ argv: ['true'] }) })], rescue: [task({ name: 'd', op: ops.command({ argv: ['true'] }) })], always: [task({ name: 'e', op: ops.command({ argv: ['true'] }) })] }),
        task({ name: 'f', op: ops.command({ argv: ['true'] }) }),
      ],
    }),
  ];
  const ids = (plays: Play[]) => identitiesOf(plays).flatMap((p) => p.tasks().map(([, id]) => `${id.play}:${id.path}:${id.name}:${id.ordinal}`));
  const first = ids(build());
  assert.deepEqual(first, ['0:0:a:0', '1:0:b:0', '1:1/block/0:c:1', '1:1/rescue/0:d:2', '1:1/always/0:e:3', '1:2:f:4']);
  assert.deepEqual(ids(build()), first, 'task ids of the process differ, identities do not');
});

// ---- the recorder and the planner with the real runner, on local hosts ----

const VALUE = 'vault-kept-resume-value-42';

/** A result with a Secret inside, as an op of a user's may return one. */
const readToken = defineOp({
  kind: 'test.read-token',
  schema: z.object({}),
  describe: () => 'read the token',
  decide: () => ({ kind: 'ok' as const, result: { nested: [{ token: secret(VALUE) }] } }),
});

function plays(dir: string): Play[] {
  return [
    definePlay({
      name: 'p',
      hosts: 'all',
      tasks: () => {
        const reload = handler({ name: 'reload', op: (h) => ops.shell({ script: `echo reload >> ${dir}/${h.name}.log` }) });
        const token = task({ name: 'token', op: readToken({}) });
        const base64 = task({ name: 'base64 of the secret', op: (h) => ops.shell({ script: 'base64', stdin: h.allVars.db_password as never }) });
        // od spaces its hex and breaks its lines: no form of the value appears as it is.
        const spaced = task({ name: 'spaced hex of the secret', op: (h) => ops.shell({ script: `printf 'x%s\\n' "$(cat)" | od -An -tx1`, stdin: h.allVars.db_password as never }) });
        const plain = task({ name: 'plain', op: (h) => ops.shell({ script: `echo plain-${h.name}` }), notify: [reload] });
        return [
          token,
          base64,
          spaced,
          plain,
          task({ name: 'gate', op: (h) => ops.shell({ script: `test ! -e ${dir}/bad-${h.name}` }) }),
          task({ name: 'uses results', op: (h) => ops.shell({ script: `echo "${String(h.result(plain)?.stdout).trim()}" >> ${dir}/${h.name}.log` }) }),
          task({ name: 'reads the token', when: () => process.env.READ_TOKEN === '1', op: (h) => ops.shell({ script: `echo ${typeof h.result(token)}` }) }),
        ];
      },
    }),
  ];
}

test('a run records each host, its results without any secret, and --resume runs only the failed host from its failed task with the results restored', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-resume-unit-'));
  const inventoryFile = path.join(dir, 'hosts.yml');
  writeFileSync(
    inventoryFile,
    `all:\n  vars:\n    ansible_connection: local\n    db_password: !vault |\n      ${encryptValue(VALUE, 'test')}\n  hosts:\n    a:\n    b:\n`,
  );
  writeFileSync(path.join(dir, 'bad-b'), '');
  const store = new RunStore(path.join(dir, 'runs'));
  const first = await runOnce(inventoryFile, plays(dir), store, undefined);
  assert.equal(first.code, 2);
  const text = readFileSync(store.fileOf(first.id!), 'utf8');
  assert.deepEqual(leaks(text, [VALUE]), [], 'no form of the secret in the record');
  const record = parseRecord(text, 'run.json');
  assert.equal(record.hosts.a!.status, 'ok');
  assert.equal(record.hosts.b!.status, 'failed');
  assert.equal(record.hosts.b!.stoppedAt!.name, 'gate');
  assert.deepEqual(record.hosts.b!.pendingHandlers.map((h) => h.name), ['reload']);
  const b = new Map(record.hosts.b!.results.map((r) => [r.task.name, r]));
  assert.equal(b.get('token')!.withheld, 'secret');
  assert.equal(b.get('base64 of the secret')!.withheld, 'secret');
  assert.equal(b.get('spaced hex of the secret')!.withheld, 'secret');
  assert.ok(b.get('plain')!.value, 'a result without a secret is kept');

  writeFileSync(path.join(dir, 'a.log'), '');
  rmSync(path.join(dir, 'bad-b'));
  const resumed = await runOnce(inventoryFile, plays(dir), store, '');
  assert.equal(resumed.code, 0, JSON.stringify(resumed.events.filter((e) => e.type === 'task-host')));
  const ran = resumed.events.filter((e) => e.type === 'task-host').map((e) => (e.type === 'task-host' ? `${e.host} ${e.task} ${e.status}` : ''));
  assert.deepEqual(ran, ['b gate changed', 'b uses results changed', 'b reads the token skipped', 'b reload changed']);
  assert.equal(readFileSync(path.join(dir, 'a.log'), 'utf8'), '', 'a ran nothing');
  assert.deepEqual(readFileSync(path.join(dir, 'b.log'), 'utf8').split('\n').slice(-3), ['plain-b', 'reload', ''], "the first run's result of 'plain', then the pending handler");
  const again = parseRecord(readFileSync(store.fileOf(resumed.id!), 'utf8'), 'run.json');
  assert.equal(again.resumedFrom, first.id);
  // a did not run again: it is carried over as the first run left it (ok, with its results), for a later resume's resultOf.
  assert.deepEqual(Object.keys(again.hosts).sort(), ['a', 'b']);
  assert.equal(again.hosts.a!.status, 'ok');
  assert.deepEqual(again.hosts.a!.results, record.hosts.a!.results);
  assert.equal(again.hosts.b!.status, 'ok');
  assert.deepEqual(again.hosts.b!.pendingHandlers, []);
  await assert.rejects(runOnce(inventoryFile, plays(dir), store, ''), /finished on every host of this inventory: nothing to resume/);

  // A task that reads a result the record withheld fails, and says why.
  process.env.READ_TOKEN = '1';
  try {
    writeFileSync(path.join(dir, 'bad-b'), '');
    await runOnce(inventoryFile, plays(dir), store, undefined);
    rmSync(path.join(dir, 'bad-b'));
    const reading = await runOnce(inventoryFile, plays(dir), store, '');
    const failed = reading.events.find((e) => e.type === 'task-host' && e.status === 'failed');
    assert.ok(failed && failed.type === 'task-host' && failed.task === 'reads the token' && /the result of task "token" held a secret, so run record \S+ did not keep it/.test(failed.msg ?? ''), JSON.stringify(failed));
  } finally {
    delete process.env.READ_TOKEN;
  }
});

test('the resume planner: a host stopped in a block passes what came before, enters the block, and no other host enters any play', () => {
  const list = [
    definePlay({ name: 'one', hosts: 'all', tasks: () => [task({ name: 'a', op: ops.command({ argv: ['true'] }) })] }),
    definePlay({
      name: 'two',
      hosts: 'all',
      tasks: () => [task({ name: 'b', op: ops.command({ argv: ['true'] }) }), block({ name: 'blk', block: [task({ name: 'c', op: ops.command({ argv: ['true'] }) }), task({ name: 'd', op: ops.command({ argv: ['true'] }) })] }), task({ name: 'e', op: ops.command({ argv: ['true'] }) })],
    }),
  ];
  const at = { play: 1, path: '1/block/1', name: 'd', ordinal: 2 };
  const record = emptyRecord({
    hosts: {
      ok1: { status: 'ok', pendingHandlers: [], results: [] },
      bad: { status: 'failed', stoppedAt: at, pendingHandlers: [], results: [] },
      down: { status: 'unreachable', stoppedAt: { play: 0, path: '0', name: 'a', ordinal: 0 }, pendingHandlers: [], results: [] },
    },
  });
  const planner = new ResumePlanner(record, identitiesOf(list), new Set(['ok1', 'bad', 'down']));
  assert.deepEqual(planner.hosts, ['bad', 'down']);
  assert.equal(planner.entersPlay(0, 'ok1') || planner.entersPlay(1, 'ok1'), false);
  assert.equal(planner.entersPlay(0, 'bad'), false);
  assert.equal(planner.entersPlay(1, 'bad'), true);
  const items = list[1]!.tasks;
  const blk = items[1]!;
  assert.equal(planner.passes(1, items[0]!, 'bad'), true, 'b ran before');
  assert.equal(planner.passes(1, blk, 'bad'), false, 'the block holds the task it stopped at');
  assert.equal(planner.passes(1, (blk as any).options.block[0], 'bad'), true, 'c ran before');
  assert.equal(planner.passes(1, (blk as any).options.block[1], 'bad'), false, 'd is where it stopped');
  assert.equal(planner.passes(1, items[2]!, 'bad'), false);
  assert.equal(planner.passes(0, list[0]!.tasks[0]!, 'down'), false, 'an unreachable host starts at the task it could not run');
  assert.deepEqual(planner.positions.map((p) => [p.host, p.play, p.task?.name, p.task?.ordinal]), [['bad', 1, 'd', 2], ['down', 0, 'a', 0]]);
  // The playbook changed and the task is gone: named, not guessed.
  const gone = [list[0]!, definePlay({ name: 'two', hosts: 'all', tasks: () => [task({ name: 'b', op: ops.command({ argv: ['true'] }) })] })];
  assert.throws(() => new ResumePlanner(record, identitiesOf(gone), new Set(['bad'])), /bad stopped at task "d" \(play 2, path 1\/block\/1\), which the playbook no longer has/);
});

test('--resume takes a run id only when one follows; --resume-anyway needs it', () => {
  assert.equal(parseCli(['--resume']).resume, '');
  assert.equal(parseCli(['--resume', '--check']).resume, '');
  assert.equal(parseCli(['--resume', '20261207T171200123Z-1a2b3c']).resume, '20261207T171200123Z-1a2b3c');
  assert.equal(parseCli(['--resume=20261207T171200123Z-1a2b3c', '--resume-anyway']).resumeAnyway, true);
  assert.equal(parseCli([]).resume, undefined);
  assert.throws(() => parseCli(['--resume=last-one']), /--resume takes a run id like/);
  assert.throws(() => parseCli(['--resume-anyway']), /--resume-anyway goes with --resume/);
});

test('a host that a haltOnFailure kept from its next play is unfinished: --resume runs it from that play, with the failed host', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-resume-halt-'));
  const inventoryFile = path.join(dir, 'hosts.yml');
  writeFileSync(inventoryFile, 'all:\n  vars:\n    ansible_connection: local\n  hosts:\n    a:\n    b:\n');
  const list = () => [
    definePlay({ name: 'verify', hosts: 'all', haltOnFailure: true, tasks: () => [task({ name: 'check', op: (h) => ops.shell({ script: `test ! -e ${dir}/bad-${h.name}` }) })] }),
    definePlay({ name: 'after', hosts: 'all', tasks: () => [task({ name: 'mark', op: (h) => ops.shell({ script: `echo after >> ${dir}/${h.name}.log` }) })] }),
  ];
  writeFileSync(path.join(dir, 'bad-b'), '');
  const store = new RunStore(path.join(dir, 'runs'));
  const first = await runOnce(inventoryFile, list(), store, undefined);
  const record = store.read(first.id!);
  assert.deepEqual([record.hosts.a!.status, record.hosts.b!.status], ['running', 'failed'], 'a did not run play 2: unfinished, not ok');
  rmSync(path.join(dir, 'bad-b'));
  const resumed = await runOnce(inventoryFile, list(), store, '');
  const ran = resumed.events.flatMap((e) => (e.type === 'task-host' ? [`${e.host} ${e.task}`] : []));
  assert.deepEqual(ran.sort(), ['a mark', 'b check', 'b mark']);
  assert.equal(readFileSync(path.join(dir, 'a.log'), 'utf8'), 'after\n');
});

test('a resume passes by the plays its hosts finished: no play-start, no warning for them', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-resume-plays-'));
  const inventoryFile = path.join(dir, 'hosts.yml');
  writeFileSync(inventoryFile, 'all:\n  vars:\n    ansible_connection: local\n  hosts:\n    a:\n    b:\n');
  const list = () => [
    definePlay({ name: 'first', hosts: 'all', tasks: () => [task({ name: 'one', op: ops.command({ argv: ['true'] }) })] }),
    definePlay({ name: 'second', hosts: 'all', tasks: () => [task({ name: 'two', op: (h) => ops.shell({ script: `test ! -e ${dir}/bad-${h.name}` }) })] }),
  ];
  writeFileSync(path.join(dir, 'bad-a'), '');
  const store = new RunStore(path.join(dir, 'runs'));
  await runOnce(inventoryFile, list(), store, undefined);
  rmSync(path.join(dir, 'bad-a'));
  const resumed = await runOnce(inventoryFile, list(), store, '');
  assert.deepEqual(resumed.events.filter((e) => e.type === 'play-start').map((e) => (e.type === 'play-start' ? [e.play, e.hosts] : [])), [['second', ['a']]]);
  assert.deepEqual(resumed.events.filter((e) => e.type === 'warning'), []);
  assert.equal(resumed.code, 0);
});
