import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { definePlay } from '../../lib/model/play.ts';
import { ops } from '../../lib/index.ts';
import { FILE_CASES, SOURCE_LINKS, SOURCES, type ParityCase } from '../fixtures/parity/file-cases.ts';
import { ansibleTask, caseParams, prepareCase, runAnsible, snapshot } from '../helpers/parity.ts';
import { runPlays } from '../helpers/run.ts';
import { startSshd, sshInventory } from '../helpers/sshd.ts';

/**
 * The differential test of issue 15: every case of
 * test/fixtures/parity/file-cases.ts is applied twice by ansible-core
 * (ansible-playbook, local connection) and twice by rigger over a real sshd
 * on loopback, each side in its own copy of the case's directory. After the
 * first run the directories must hold the same bytes and modes, both sides
 * must agree on failed and changed, and the second run must change nothing
 * (rigger always; Ansible except where the case names its idempotence bug).
 */

function riggerOp(c: ParityCase, params: Record<string, unknown>) {
  const p = params as never;
  return c.op === 'line' ? ops.line(p) : c.op === 'block' ? ops.block(p) : c.op === 'copy' ? ops.copy(p) : ops.copyTree(p);
}

test(`${FILE_CASES.length} lineinfile/blockinfile/copy cases: rigger writes what ansible-core writes, with the same changed, and changes nothing on a second run`, async () => {
  assert.ok(FILE_CASES.length >= 90, `at least 90 cases, have ${FILE_CASES.length}`);
  assert.equal(new Set(FILE_CASES.map((c) => c.id)).size, FILE_CASES.length, 'case ids are unique');
  const work = mkdtempSync(path.join(tmpdir(), 'parity-files-'));
  const srcDir = path.join(work, 'src');
  mkdirSync(srcDir);
  for (const [name, text] of Object.entries(SOURCES)) {
    mkdirSync(name.endsWith('/') ? path.join(srcDir, name) : path.dirname(path.join(srcDir, name)), { recursive: true });
    if (!name.endsWith('/')) writeFileSync(path.join(srcDir, name), text, { mode: name.endsWith('.sh') ? 0o750 : 0o644 });
  }
  for (const [name, target] of Object.entries(SOURCE_LINKS)) symlinkSync(target, path.join(srcDir, name));
  const side = (name: string, c: ParityCase) => path.join(work, name, c.id);
  for (const c of FILE_CASES) {
    prepareCase(c, side('ansible', c));
    prepareCase(c, side('rigger', c));
  }
  const ansibleTasks = FILE_CASES.map((c) => ansibleTask(c, caseParams(c, side('ansible', c), srcDir)));
  const sshd = await startSshd();
  try {
    const inventory = sshInventory([{ name: 'h', sshd }]);
    // Parameters rigger rejects never reach a play: the runner refuses the whole play for them.
    const riggerOps = new Map(FILE_CASES.map((c) => [c.id, riggerOp(c, caseParams(c, side('rigger', c), srcDir))]));
    const rejected = new Map([...riggerOps].filter(([, op]) => op.problems.length > 0).map(([id, op]) => [id, op.problems.map((x) => `${x.param}: ${x.message}`).join('; ')]));
    const play = definePlay({
      name: 'parity',
      hosts: 'all',
      tasks: (b) => FILE_CASES.filter((c) => !rejected.has(c.id)).map((c) => b.task({ name: c.id, op: riggerOps.get(c.id)!, ignoreErrors: true })),
    });
    const run = () => Promise.all([runAnsible(work, ansibleTasks), runPlays(inventory, [play])]);
    const snapshots = (name: string) => new Map(FILE_CASES.map((c) => [c.id, snapshot(side(name, c))]));
    const [ansibleFirst, riggerFirst] = await run();
    const [ansibleAfterFirst, riggerAfterFirst] = [snapshots('ansible'), snapshots('rigger')];
    const [ansibleSecond, riggerSecond] = await run();
    const riggerAfterSecond = snapshots('rigger');
    const messages = new Map(riggerFirst.events.flatMap((e) => (e.type === 'task-host' ? [[e.task, e.msg ?? ''] as const] : [])));
    for (const [id, why] of rejected) {
      messages.set(id, why);
      riggerFirst.statuses.set(id, new Map([['h', 'ignored']]));
      riggerSecond.statuses.set(id, new Map([['h', 'ignored']]));
    }
    const problems: string[] = [];
    for (const c of FILE_CASES) {
      const a1 = ansibleFirst!.get(c.id)!;
      const a2 = ansibleSecond!.get(c.id)!;
      const r1 = riggerFirst.statuses.get(c.id)?.get('h');
      const r2 = riggerSecond.statuses.get(c.id)?.get('h');
      const where = `${c.id} (${c.source})`;
      if (c.refused) {
        if (r1 !== 'ignored' || !messages.get(c.id)?.includes(c.refused)) problems.push(`${where}: rigger should refuse with "${c.refused}", got ${r1}: ${messages.get(c.id)}`);
        if (!a1.changed || !a2.changed) problems.push(`${where}: the reason for refusing is that Ansible changes on every run, but it reported ${a1.changed}, ${a2.changed}`);
        continue;
      }
      const rFailed = r1 === 'ignored';
      if (a1.failed !== rFailed) {
        problems.push(`${where}: ansible ${a1.failed ? `failed (${a1.msg})` : 'succeeded'}, rigger ${rFailed ? `failed (${messages.get(c.id)})` : 'succeeded'}`);
        continue;
      }
      if (!a1.failed && a1.changed !== (r1 === 'changed')) problems.push(`${where}: first run changed: ansible ${a1.changed}, rigger ${r1}`);
      if (!a1.failed && r2 !== 'ok') problems.push(`${where}: rigger's second run was ${r2}`);
      if (!a1.failed && a2.changed !== Boolean(c.ansibleChangesAgain)) problems.push(`${where}: ansible's second run changed=${a2.changed}`);
      const want = ansibleAfterFirst.get(c.id)!;
      const got = riggerAfterFirst.get(c.id)!;
      if (JSON.stringify(want) !== JSON.stringify(got)) problems.push(`${where}: files differ\n  ansible: ${want.join('\n           ')}\n  rigger:  ${got.join('\n           ')}`);
      if (JSON.stringify(riggerAfterSecond.get(c.id)) !== JSON.stringify(got)) problems.push(`${where}: rigger's second run changed the files`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  } finally {
    await sshd.stop();
  }
});
