import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { definePlay, defineRole, facts, ops, flushHandlers, InputError } from '../../lib/index.ts';
import { localInventory, runPlays, scratchDir } from '../helpers/run.ts';

const status = (o: Awaited<ReturnType<typeof runPlays>>, task: string, host: string) => o.statuses.get(task)?.get(host);

test('check mode reports changes and touches nothing; apply changes; re-run is ok', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a']);
  const play = () =>
    definePlay({
      name: 'files',
      hosts: 'all',
      tasks: ({ task }) => [
        task({ name: 'dir', op: ops.file({ path: `${dir}/d`, state: 'directory' }) }),
        task({ name: 'file', op: ops.copy({ path: `${dir}/d/f`, content: 'x\n', mode: '0600' }) }),
      ],
    });
  const check = await runPlays(inv, [play()], { check: true, diff: true });
  assert.equal(status(check, 'dir', 'a'), 'changed');
  assert.equal(status(check, 'file', 'a'), 'changed');
  assert.equal(existsSync(`${dir}/d`), false, 'check mode created nothing');
  const diffEvent = check.events.find((e) => e.type === 'task-host' && e.task === 'file');
  assert.ok(diffEvent && diffEvent.type === 'task-host' && diffEvent.diff?.kind === 'text');
  const apply = await runPlays(inv, [play()]);
  assert.equal(apply.summary.counts.get('a')!.changed, 2);
  assert.equal(readFileSync(`${dir}/d/f`, 'utf8'), 'x\n');
  const again = await runPlays(inv, [play()]);
  assert.equal(again.summary.counts.get('a')!.changed, 0);
  assert.equal(again.summary.counts.get('a')!.ok, 2);
  assert.equal(again.summary.exitCode, 0);
});

test('a no-op run reads the state of all its tasks in one round trip per host', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a', 'b']);
  const play = () =>
    definePlay({
      name: 'twenty',
      hosts: 'all',
      tasks: ({ task }) =>
        Array.from({ length: 20 }, (_, i) =>
          task({ name: `f${i}`, op: (h) => ops.copy({ path: `${dir}/${h.name}-${i}`, content: `${i}\n` }) }),
        ),
    });
  await runPlays(inv, [play()]);
  const noop = await runPlays(inv, [play()]);
  assert.equal(noop.summary.counts.get('a')!.ok, 20);
  assert.equal(noop.runner.sessions.get('a')!.roundTrips, 1);
  assert.equal(noop.runner.sessions.get('b')!.roundTrips, 1);
});

test('handlers run once, at the end, only where notified, in definition order', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a', 'b']);
  const log = `${dir}/log`;
  const role = defineRole({
    name: 'svc',
    defaults: z.object({ conf: z.string().default('v1') }),
    build: ({ task, handler }) => {
      const first = handler({ name: 'first', op: ops.shell({ script: `echo first-$(hostname) >> ${log}` }) });
      const second = handler({ name: 'second', op: ops.shell({ script: `echo second >> ${log}` }) });
      return {
        handlers: [first, second],
        tasks: [
          task({ name: 'conf', op: (h) => ops.copy({ path: `${dir}/${h.name}.conf`, content: h.vars.conf }), notify: [second, first] }),
          task({ name: 'conf again', op: (h) => ops.copy({ path: `${dir}/${h.name}.2`, content: h.vars.conf }), notify: [second] }),
        ],
      };
    },
  });
  const play = definePlay({ name: 'p', hosts: 'all', roles: [role] });
  const o = await runPlays(inv, [play]);
  const order = o.events.filter((e) => e.type === 'task-start').map((e) => (e.type === 'task-start' ? e.task : ''));
  assert.deepEqual(order, ['conf', 'conf again', 'first', 'second']);
  assert.equal(readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('second')).length, 2, 'second ran once per host');
  writeFileSync(log, '');
  const again = await runPlays(inv, [definePlay({ name: 'p', hosts: 'all', roles: [role] })], { limit: 'a', extraVars: {} });
  assert.equal(readFileSync(log, 'utf8'), '', 'no change, no handler');
  assert.ok(!again.events.some((e) => e.type === 'task-start' && e.handler));
});

test('forceHandlers runs handlers for hosts that changed before a later failure', async () => {
  for (const force of [false, true]) {
    const dir = scratchDir();
    const inv = localInventory(['a']);
    const play = definePlay({
      name: 'p',
      hosts: 'all',
      forceHandlers: force,
      handlers: [],
      tasks: ({ task, handler }) => {
        const h = handler({ name: 'mark', op: ops.shell({ script: `touch ${dir}/handled` }) });
        return [
          task({ name: 'change', op: ops.copy({ path: `${dir}/c`, content: '1' }), notify: [h] }),
          task({ name: 'boom', op: ops.shell({ script: 'exit 1' }) }),
        ];
      },
    });
    const o = await runPlays(inv, [play]);
    assert.equal(o.summary.exitCode, 2);
    assert.equal(existsSync(`${dir}/handled`), force, `forceHandlers=${force}`);
  }
});

test('flushHandlers runs notified handlers mid-play', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a']);
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task, handler }) => {
      const h = handler({ name: 'mark', op: ops.shell({ script: `touch ${dir}/flushed` }) });
      return [
        task({ name: 'change', op: ops.copy({ path: `${dir}/c`, content: '1' }), notify: [h] }),
        flushHandlers(),
        task({ name: 'after', op: ops.command({ argv: ['test', '-e', `${dir}/flushed`] }) }),
      ];
    },
  });
  const o = await runPlays(inv, [play]);
  assert.equal(status(o, 'after', 'a'), 'changed');
});

test('block, rescue and always: rescued hosts continue, failures in rescue stop the host', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a', 'b']);
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task, block }) => [
      block({
        block: [
          task({ name: 'may fail', op: (h) => ops.shell({ script: h.name === 'a' ? 'exit 3' : 'true' }) }),
          task({ name: 'after failure', op: (h) => ops.shell({ script: `touch ${dir}/after-${h.name}` }) }),
        ],
        rescue: [task({ name: 'rescue', op: (h) => ops.shell({ script: `touch ${dir}/rescue-${h.name}` }) })],
        always: [task({ name: 'always', op: (h) => ops.shell({ script: `touch ${dir}/always-${h.name}` }) })],
      }),
      block({
        block: [task({ name: 'fail again', op: (h) => ops.shell({ script: h.name === 'b' ? 'exit 1' : 'true' }) })],
        rescue: [task({ name: 'rescue fails', op: ops.shell({ script: 'exit 2' }) })],
        always: [task({ name: 'always 2', op: (h) => ops.shell({ script: `touch ${dir}/always2-${h.name}` }) })],
      }),
      task({ name: 'last', op: (h) => ops.shell({ script: `touch ${dir}/last-${h.name}` }) }),
    ],
  });
  const o = await runPlays(inv, [play]);
  assert.equal(existsSync(`${dir}/after-a`), false);
  assert.equal(existsSync(`${dir}/after-b`), true);
  assert.equal(existsSync(`${dir}/rescue-a`), true);
  assert.equal(existsSync(`${dir}/rescue-b`), false);
  assert.equal(existsSync(`${dir}/always-a`) && existsSync(`${dir}/always-b`), true);
  assert.equal(existsSync(`${dir}/always2-b`), true, 'always runs even when rescue failed');
  assert.equal(existsSync(`${dir}/last-a`), true);
  assert.equal(existsSync(`${dir}/last-b`), false);
  assert.equal(o.summary.counts.get('a')!.rescued, 1);
  assert.equal(o.summary.counts.get('a')!.failed, 0);
  assert.equal(o.summary.counts.get('b')!.failed, 1);
  assert.equal(o.summary.exitCode, 2);
});

test('when skips with the condition as reason; registered results are typed and per host', async () => {
  const inv = localInventory(['a', 'b'], '  children:\n    special:\n      hosts:\n        b:\n');
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task }) => {
      const read = task({ name: 'read', op: (h) => ops.command({ argv: ['echo', `value-${h.name}`], readOnly: true }) });
      const use = task({
        name: 'use',
        when: (h) => h.groups.includes('special'),
        op: (h) => ops.command({ argv: ['test', h.result(read)!.stdout.trim(), '=', 'value-b'] }),
      });
      return [read, use];
    },
  });
  const o = await runPlays(inv, [play]);
  assert.equal(status(o, 'use', 'a'), 'skipped');
  const skip = o.events.find((e) => e.type === 'task-host' && e.task === 'use' && e.host === 'a');
  assert.match(skip?.type === 'task-host' ? skip.msg ?? '' : '', /when: .*special.* was false/);
  assert.equal(status(o, 'use', 'b'), 'changed');
});

test('retries with until re-run the task; ignoreErrors keeps the host going', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a']);
  const counter = `${dir}/n`;
  writeFileSync(counter, '0');
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task }) => [
      task({
        name: 'count',
        op: ops.shell({ script: `n=$(($(cat ${counter}) + 1)); echo $n > ${counter}; echo $n` }),
        until: (r) => Number(r.stdout.trim()) >= 3,
        retries: 5,
        delaySeconds: 0.01,
      }),
      task({ name: 'ignored', op: ops.shell({ script: 'exit 9' }), ignoreErrors: true }),
      task({ name: 'continues', op: ops.shell({ script: 'true' }) }),
      task({ name: 'never enough', op: ops.shell({ script: 'echo 1' }), until: (r) => r.stdout.trim() === '2', retries: 1, delaySeconds: 0.01, ignoreErrors: true }),
    ],
  });
  const o = await runPlays(inv, [play]);
  assert.equal(readFileSync(counter, 'utf8').trim(), '3');
  assert.equal(status(o, 'ignored', 'a'), 'ignored');
  assert.equal(status(o, 'continues', 'a'), 'changed');
  assert.equal(status(o, 'never enough', 'a'), 'ignored');
  assert.equal(o.summary.counts.get('a')!.ignored, 2);
  assert.equal(o.summary.exitCode, 0);
});

test('changedWhen and failedWhen override the op', async () => {
  const inv = localInventory(['a']);
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task }) => [
      task({ name: 'not a change', op: ops.shell({ script: 'echo same' }), changedWhen: (r) => r.stdout.includes('changed') }),
      task({ name: 'grep miss is fine', op: ops.shell({ script: 'exit 1' }), failedWhen: (r) => r.rc > 1 }),
      task({ name: 'output means failure', op: ops.shell({ script: 'echo ERROR' }), failedWhen: (r) => r.stdout.includes('ERROR') }),
    ],
  });
  const o = await runPlays(inv, [play]);
  assert.equal(status(o, 'not a change', 'a'), 'ok');
  assert.equal(status(o, 'grep miss is fine', 'a'), 'changed');
  assert.equal(status(o, 'output means failure', 'a'), 'failed');
});

test('runOnce runs on the first host and shares its result; delegateTo runs elsewhere with this host vars', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a', 'b', 'c']);
  const play = definePlay({
    name: 'p',
    hosts: 'a:b',
    tasks: ({ task }) => {
      const token = task({ name: 'token', runOnce: true, op: ops.shell({ script: `echo tok-$$ ; touch ${dir}/once-$$` }) });
      return [
        token,
        task({ name: 'write token', op: (h) => ops.copy({ path: `${dir}/tok-${h.name}`, content: h.result(token)!.stdout }) }),
        task({ name: 'delegated', delegateTo: 'c', op: (h) => ops.copy({ path: `${dir}/from-${h.name}`, content: h.name }) }),
      ];
    },
  });
  const o = await runPlays(inv, [play]);
  assert.equal(o.statuses.get('token')!.size, 1);
  assert.equal(readFileSync(`${dir}/tok-a`, 'utf8'), readFileSync(`${dir}/tok-b`, 'utf8'));
  const delegated = o.events.filter((e) => e.type === 'task-host' && e.task === 'delegated');
  assert.deepEqual(delegated.map((e) => (e.type === 'task-host' ? e.delegatedTo : '')), ['c', 'c']);
  assert.equal(readFileSync(`${dir}/from-b`, 'utf8'), 'b');
  assert.ok(o.runner.sessions.get('c')!.roundTrips > 0, 'the delegate host did the work');
});

test('a failed host stops only itself; maxFailPercentage aborts when exceeded; anyErrorsFatal', async () => {
  const inv = localInventory(['a', 'b', 'c', 'd']);
  const failOn = (names: string[]) => (h: { name: string }) => ops.shell({ script: names.includes(h.name) ? 'exit 1' : 'true' });
  const plays = (opts: { maxFailPercentage?: number; anyErrorsFatal?: boolean }, failing: string[]) =>
    definePlay({
      name: 'p',
      hosts: 'all',
      ...opts,
      tasks: ({ task }) => [task({ name: 'one', op: failOn(failing) }), task({ name: 'two', op: ops.shell({ script: 'true' }) })],
    });
  const alone = await runPlays(inv, [plays({}, ['a'])]);
  assert.equal(status(alone, 'two', 'a'), undefined);
  assert.equal(status(alone, 'two', 'b'), 'changed');
  const atLimit = await runPlays(inv, [plays({ maxFailPercentage: 25 }, ['a'])]);
  assert.equal(status(atLimit, 'two', 'b'), 'changed', '25% failed is not more than 25%');
  const over = await runPlays(inv, [plays({ maxFailPercentage: 25 }, ['a', 'b'])]);
  assert.equal(over.statuses.get('two'), undefined, 'play aborted before task two');
  assert.ok(over.events.some((e) => e.type === 'warning' && /maxFailPercentage/.test(e.message)));
  const fatal = await runPlays(inv, [plays({ anyErrorsFatal: true }, ['c'])]);
  assert.equal(fatal.statuses.get('two'), undefined);
  assert.equal(fatal.summary.exitCode, 2);
});

test('haltOnFailure: a host failing in that play starts no later play; without it, later plays run for the others', async () => {
  const inv = localInventory(['a', 'b']);
  const first = (halt: boolean) =>
    definePlay({ name: 'verify', hosts: 'a', haltOnFailure: halt, tasks: ({ task }) => [task({ name: 'check', op: ops.shell({ script: 'exit 1' }) })] });
  const later = definePlay({ name: 'change', hosts: 'b', tasks: ({ task }) => [task({ name: 'write', op: ops.shell({ script: 'true' }) })] });
  const halted = await runPlays(inv, [first(true), later]);
  assert.equal(halted.statuses.get('write'), undefined, 'the later play never ran');
  assert.ok(halted.events.some((e) => e.type === 'warning' && /haltOnFailure stops the run/.test(e.message)));
  assert.ok(!halted.events.some((e) => e.type === 'play-start' && e.play === 'change'));
  assert.equal(halted.summary.exitCode, 2);
  const goesOn = await runPlays(inv, [first(false), later]);
  assert.equal(status(goesOn, 'write', 'b'), 'changed');
});

test('a task sees why another failed (message), for logs and webhooks', async () => {
  const inv = localInventory(['a']);
  let seen: string | undefined;
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task, block }) => {
      const bad = task({ name: 'bad', op: ops.shell({ script: 'echo disk full >&2; exit 3' }) });
      return [block({ block: [bad], always: [task({ name: 'after', op: (h) => ((seen = h.message(bad)), ops.shell({ script: 'true' })) })] })];
    },
  });
  await runPlays(inv, [play]);
  assert.match(seen ?? '', /exited 3[\s\S]*disk full/);
});

test('serial runs the whole play on each batch before the next', async () => {
  const inv = localInventory(['a', 'b', 'c']);
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    serial: [1, 2],
    tasks: ({ task }) => [task({ name: 'x', op: ops.shell({ script: 'true' }) }), task({ name: 'y', op: ops.shell({ script: 'true' }) })],
  });
  const o = await runPlays(inv, [play]);
  const seq = o.events.filter((e) => e.type === 'task-host').map((e) => (e.type === 'task-host' ? `${e.task}:${e.host}` : ''));
  assert.deepEqual(seq.slice(0, 2), ['x:a', 'y:a']);
  assert.deepEqual(new Set(seq.slice(2, 4)), new Set(['x:b', 'x:c']));
});

test('tags and skip-tags select tasks; role names are tags', async () => {
  const inv = localInventory(['a']);
  const role = defineRole({ name: 'web', defaults: z.object({}), build: ({ task }) => ({ tasks: [task({ name: 'in role', op: ops.shell({ script: 'true' }) })] }) });
  const play = () =>
    definePlay({
      name: 'p',
      hosts: 'all',
      roles: [role],
      tasks: ({ task }) => [
        task({ name: 'tagged', tags: ['cfg'], op: ops.shell({ script: 'true' }) }),
        task({ name: 'always', tags: ['always'], op: ops.shell({ script: 'true' }) }),
        task({ name: 'never', tags: ['never', 'debug'], op: ops.shell({ script: 'true' }) }),
      ],
    });
  const names = (o: Awaited<ReturnType<typeof runPlays>>) => [...o.statuses.keys()];
  assert.deepEqual(names(await runPlays(inv, [play()])), ['in role', 'tagged', 'always']);
  assert.deepEqual(names(await runPlays(inv, [play()], { tags: ['web'] })), ['in role', 'always']);
  assert.deepEqual(names(await runPlays(inv, [play()], { tags: ['debug'] })), ['always', 'never']);
  assert.deepEqual(names(await runPlays(inv, [play()], { skipTags: ['cfg', 'always'] })), ['in role']);
});

test('bad op parameters are refused before any host is contacted, naming the task line and parameter', async () => {
  const inv = localInventory(['a']);
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task }) => [task({ name: 'bad mode', op: ops.file({ path: '/tmp/x', state: 'directory', mode: '0999' }) })],
  });
  await assert.rejects(runPlays(inv, [play]), (e: unknown) => e instanceof InputError && /runner\.test\.ts:\d+:\d+: task "bad mode": invalid parameter mode of files\.file/.test(e.message));
  const relative = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task }) => [task({ name: 'relative', op: (h) => ops.copy({ path: `rel/${h.name}`, content: '' }) })],
  });
  const o = await runPlays(inv, [relative]);
  const ev = o.events.find((e) => e.type === 'task-host');
  assert.ok(ev?.type === 'task-host' && ev.status === 'failed' && /invalid parameter path of files\.copy: must be an absolute path/.test(ev.msg ?? ''));
  assert.equal(o.runner.sessions.get('a')!.roundTrips, 0, 'nothing ran on the host');
});

test('--forks bounds how many hosts run a task at once', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a', 'b', 'c', 'd']);
  const slots = `${dir}/slots`;
  const play = () =>
    definePlay({
      name: 'p',
      hosts: 'all',
      tasks: ({ task }) => [
        task({
          name: 'slot',
          op: ops.shell({ script: `mkdir -p ${slots}; i=0; while ! mkdir ${slots}/$i 2>/dev/null; do i=$((i+1)); done; sleep 0.1; rmdir ${slots}/$i; echo $i` }),
        }),
      ],
    });
  const maxSlot = (o: Awaited<ReturnType<typeof runPlays>>) =>
    Math.max(...['a', 'b', 'c', 'd'].map((h) => Number((o.runner.sessions.get(h)!.results.values().next().value!.result as { stdout: string }).stdout)));
  assert.equal(maxSlot(await runPlays(inv, [play()], { forks: 1 })), 0, 'one at a time');
  assert.ok(maxSlot(await runPlays(inv, [play()], { forks: 4 })) >= 1, 'several at once');
});

/** The 1-based line of this test file that holds a marker comment: where a builder call lies. */
const lineOf = (marker: string) => readFileSync(new URL(import.meta.url), 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;

test('item 16: a block whose when throws fails the host at the block\'s line; a block when may read facts', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a', 'b']);
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task, block }) => [
      block({ // MARK: block whose when throws
        name: 'guarded',
        when: (h) => {
          if (h.name === 'a') throw new Error('no such key: colour');
          return true;
        },
        block: [task({ name: 'inside', op: (h) => ops.shell({ script: `touch ${dir}/inside-${h.name}` }) })],
        always: [task({ name: 'always', op: (h) => ops.shell({ script: `touch ${dir}/always-${h.name}` }) })],
      }),
      block({
        name: 'by fact',
        // Facts are gathered for a block's when as for a task's: not read yet is not false.
        when: (h) => h.fact(facts.arch).machine.length > 0,
        block: [task({ name: 'fact block', op: (h) => ops.shell({ script: `touch ${dir}/fact-${h.name}` }) })],
      }),
      task({ name: 'after', op: (h) => ops.shell({ script: `touch ${dir}/after-${h.name}` }) }),
    ],
  });
  const o = await runPlays(inv, [play]);
  const failure = o.events.find((e) => e.type === 'task-host' && e.host === 'a' && e.status === 'failed');
  assert.ok(failure && failure.type === 'task-host', 'a failure event for host a');
  assert.match(failure.msg ?? '', /no such key: colour/);
  assert.equal(failure.location, `test/unit/runner.test.ts:${lineOf('MARK: block whose when throws')}:7`);
  assert.equal(o.summary.counts.get('a')!.failed, 1);
  assert.equal(o.summary.counts.get('b')!.failed, 0);
  assert.equal(o.summary.exitCode, 2);
  assert.equal(existsSync(`${dir}/inside-a`), false, 'the block did not run on a');
  assert.equal(existsSync(`${dir}/inside-b`) && existsSync(`${dir}/always-b`), true, 'the block ran on b');
  assert.equal(existsSync(`${dir}/fact-b`), true, 'a block whose when reads a fact runs');
  assert.equal(status(o, 'after', 'a'), undefined, 'a failed host goes no further');
  assert.equal(status(o, 'after', 'b'), 'changed');
});

test('item 16: an enclosing rescue catches a block when that throws', async () => {
  const dir = scratchDir();
  const inv = localInventory(['a']);
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task, block }) => [
      block({
        block: [
          block({
            when: () => {
              throw new Error('bad condition');
            },
            block: [task({ name: 'inner', op: ops.shell({ script: `touch ${dir}/inner` }) })],
          }),
        ],
        rescue: [task({ name: 'rescue', op: ops.shell({ script: `touch ${dir}/rescued` }) })],
      }),
    ],
  });
  const o = await runPlays(inv, [play]);
  assert.equal(existsSync(`${dir}/inner`), false);
  assert.equal(existsSync(`${dir}/rescued`), true, 'the enclosing rescue ran');
  assert.equal(o.summary.counts.get('a')!.rescued, 1);
  assert.equal(o.summary.counts.get('a')!.failed, 0);
  assert.equal(o.summary.exitCode, 0);
});
