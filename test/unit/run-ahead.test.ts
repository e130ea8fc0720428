// Run-ahead (lib/runner/run-ahead.ts): a change carries the guarded
// host-local changes of the tasks after it. Real sh on this machine through
// the local transport; every assertion compares against the lockstep run
// (runAhead: false) or the bytes on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { definePlay, ops } from '../../lib/index.ts';
import { sh } from '../../lib/shell/command.ts';
import { headWithLinks, probeDigest, splitHeadWithLinks, type AheadLink } from '../../lib/runner/run-ahead.ts';
import { localInventory, runPlays, scratchDir } from '../helpers/run.ts';

const motd = ops.defineTemplate<{ n: number }>('motd', (v) => `motd ${v.n}\n`);

/** Seven kinds of file task over a few directories, like the benchmark's workload. */
function filePlay(dir: string, runAhead: boolean, count = 21) {
  return definePlay({
    name: 'files',
    hosts: 'all',
    runAhead,
    tasks: ({ task }) =>
      Array.from({ length: count }, (_, i) => {
        const d = `${dir}/g${Math.floor(i / 7)}`;
        const name = `t${i}`;
        switch (i % 7) {
          case 0:
            return task({ name, op: ops.file({ path: d, state: 'directory', mode: '0750' }) });
          case 1:
            return task({ name, op: ops.copy({ path: `${d}/c.txt`, content: `copy ${i}\n` }) });
          case 2:
            return task({ name, op: ops.line({ path: `${d}/lines.txt`, line: `line ${i}`, create: true }) });
          case 3:
            return task({ name, op: ops.file({ path: `${d}/link`, state: 'link', src: `${d}/c.txt` }) });
          case 4:
            return task({ name, op: ops.file({ path: `${d}/c.txt`, state: 'file', mode: '0600' }) });
          case 5:
            return task({ name, op: ops.copy({ path: `${d}/second.txt`, content: Buffer.from([0, 1, 2, 255, 10]) }) });
          default:
            return task({ name, op: ops.template({ path: `${d}/t.conf`, template: motd, vars: { n: i } }) });
        }
      }),
  });
}

/** Paths, kinds, modes, link targets and contents under dir, for comparing two trees. */
function tree(dir: string): string {
  return execFileSync('sh', ['-c', 'cd "$1" && find . -printf "%p %y %m %l\\n" | sort && find . -type f | sort | xargs sha256sum', 'tree', dir], { encoding: 'utf8' });
}

test('a cold converge of host-local file tasks takes far fewer round trips and leaves the same files as lockstep', async () => {
  const inv = localInventory(['a']);
  const lockDir = scratchDir();
  const aheadDir = scratchDir();
  const lockstep = await runPlays(inv, [filePlay(lockDir, false)]);
  const ahead = await runPlays(inv, [filePlay(aheadDir, true)]);
  assert.equal(lockstep.summary.counts.get('a')!.changed, 21);
  assert.equal(ahead.summary.counts.get('a')!.changed, 21, 'every task is still reported changed');
  assert.equal(ahead.summary.counts.get('a')!.failed, 0);
  const lockTrips = lockstep.runner.sessions.get('a')!.roundTrips;
  const aheadTrips = ahead.runner.sessions.get('a')!.roundTrips;
  assert.equal(lockTrips, 22, 'lockstep: one read, then one round trip per change');
  assert.ok(aheadTrips <= 8, `run-ahead took ${aheadTrips} round trips for 21 changes`);
  assert.equal(tree(aheadDir).replaceAll(aheadDir, ''), tree(lockDir).replaceAll(lockDir, ''));
  assert.deepEqual(readFileSync(`${aheadDir}/g2/second.txt`), Buffer.from([0, 1, 2, 255, 10]));
  assert.equal(readFileSync(`${aheadDir}/g1/c.txt`, 'utf8'), 'copy 8\n');
  assert.equal(statSync(`${aheadDir}/g1/c.txt`).mode & 0o777, 0o600);
  assert.equal(readlinkSync(`${aheadDir}/g0/link`), `${aheadDir}/g0/c.txt`);
  const again = await runPlays(inv, [filePlay(aheadDir, true)]);
  assert.equal(again.summary.counts.get('a')!.changed, 0);
  assert.equal(again.runner.sessions.get('a')!.roundTrips, 1);
});

test('a task whose probed state the change before it alters is not run ahead: it decides again from the new state', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a']);
  const play = definePlay({
    name: 'same file',
    hosts: 'all',
    tasks: ({ task }) => [
      task({ name: 'write', op: ops.copy({ path: `${dir}/f`, content: 'first\n' }) }),
      // Decided from "absent" this would create the file with only its line;
      // the guard sees the file the copy wrote and stops the chain.
      task({ name: 'add line', op: ops.line({ path: `${dir}/f`, line: 'second', create: true }) }),
      task({ name: 'other', op: ops.copy({ path: `${dir}/g`, content: 'g\n' }) }),
    ],
  });
  const o = await runPlays(inv, [play]);
  assert.equal(o.summary.counts.get('a')!.changed, 3);
  assert.equal(readFileSync(`${dir}/f`, 'utf8'), 'first\nsecond\n');
  assert.equal(readFileSync(`${dir}/g`, 'utf8'), 'g\n');
});

test('a change that fails while running ahead fails its own task, and nothing after it ran', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a']);
  const play = definePlay({
    name: 'failing link',
    hosts: 'all',
    tasks: ({ task }) => [
      task({ name: 'one', op: ops.copy({ path: `${dir}/one`, content: '1\n' }) }),
      task({ name: 'bad owner', op: ops.copy({ path: `${dir}/two`, content: '2\n', owner: 'rigger-no-such-user' }) }),
      task({ name: 'three', op: ops.copy({ path: `${dir}/three`, content: '3\n' }) }),
    ],
  });
  const o = await runPlays(inv, [play]);
  assert.equal(o.statuses.get('one')!.get('a'), 'changed');
  assert.equal(o.statuses.get('bad owner')!.get('a'), 'failed');
  const failure = o.events.find((e) => e.type === 'task-host' && e.task === 'bad owner');
  assert.ok(failure?.type === 'task-host' && /rigger-no-such-user|invalid user/.test(failure.msg ?? ''), `the task names the failure: ${failure?.type === 'task-host' ? failure.msg : ''}`);
  assert.equal(o.statuses.get('three'), undefined, 'the failed host ran no later task');
  assert.equal(existsSync(`${dir}/three`), false, 'the chain stopped at the failure');
  assert.equal(o.runner.sessions.get('a')!.roundTrips, 2, 'the read, then one round trip for all of it');
});

test('handlers notified by a task that ran ahead still run; a non-file task ends the chain', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a']);
  const play = definePlay({
    name: 'notify',
    hosts: 'all',
    tasks: ({ task, handler }) => {
      const h = handler({ name: 'reload', op: ops.shell({ script: `echo reloaded >> ${dir}/log` }) });
      return [
        task({ name: 'dir', op: ops.file({ path: `${dir}/d`, state: 'directory' }) }),
        task({ name: 'conf', op: ops.copy({ path: `${dir}/d/conf`, content: 'x\n' }), notify: [h] }),
        task({ name: 'cmd', op: ops.command({ argv: ['touch', `${dir}/d/cmd`], creates: `${dir}/d/cmd` }) }),
        task({ name: 'after', op: ops.copy({ path: `${dir}/d/after`, content: 'y\n' }) }),
      ];
    },
  });
  const o = await runPlays(inv, [play]);
  assert.equal(o.statuses.get('conf')!.get('a'), 'changed');
  assert.equal(o.statuses.get('reload')!.get('a'), 'changed');
  assert.equal(readFileSync(`${dir}/log`, 'utf8'), 'reloaded\n');
  assert.ok(existsSync(`${dir}/d/after`) && lstatSync(`${dir}/d/cmd`).isFile());
  // The read; dir with conf; cmd (not host-local, so it heads its own round trip) with after; the handler.
  assert.equal(o.runner.sessions.get('a')!.roundTrips, 4);
  assert.equal(o.runner.sessions.get('a')!.ranAhead.size, 0, 'every change that ran ahead was reported');
});

test('the guard script: each link runs only when its probe prints what the controller decided from, with exactly its stdin', () => {
  const dir = scratchDir();
  writeFileSync(`${dir}/state`, 'before\n');
  const probe = sh`cat ${`${dir}/state`}`;
  const decidedFrom = { stdout: Buffer.from('before\n'), stderr: Buffer.alloc(0), code: 0, durationMs: 0 };
  const links: AheadLink[] = [
    { taskId: 'x', probe, decidedFrom, commands: [sh`cat > ${`${dir}/x`}`.withStdin('xx-bytes')] },
    { taskId: 'y', probe, decidedFrom, commands: [sh`cat > ${`${dir}/y`}`.withStdin('yy')] },
  ];
  const run = (head: ReturnType<typeof sh>) => {
    const layout = headWithLinks(head, links);
    const stdin = Buffer.concat(layout.stdin.map((p) => Buffer.from(p as string)));
    const r = spawnSync('sh', ['-c', Buffer.concat([layout.bytes, Buffer.from('exit "$rigger_rc"\n')]).toString('utf8')], { input: stdin });
    return splitHeadWithLinks({ stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1, durationMs: 0 }, layout, links);
  };
  // The state is what was decided from: both links run, each with its own bytes.
  const both = run(sh`cat > ${`${dir}/head`}`.withStdin('head-bytes'));
  assert.equal(both?.ran.length, 2);
  assert.equal(readFileSync(`${dir}/head`, 'utf8'), 'head-bytes');
  assert.equal(readFileSync(`${dir}/x`, 'utf8'), 'xx-bytes');
  assert.equal(readFileSync(`${dir}/y`, 'utf8'), 'yy');
  // The head changes the probed state: no link runs.
  execFileSync('rm', [`${dir}/x`, `${dir}/y`]);
  const none = run(sh`echo after > ${`${dir}/state`}`);
  assert.equal(none?.head.code, 0);
  assert.equal(none?.ran.length, 0);
  assert.equal(existsSync(`${dir}/x`) || existsSync(`${dir}/y`), false);
  // A failing head runs no link either.
  writeFileSync(`${dir}/state`, 'before\n');
  const failed = run(sh`exit 3`);
  assert.equal(failed?.head.code, 3);
  assert.equal(failed?.ran.length, 0);
  assert.equal(probeDigest(decidedFrom).length, 64);
});
