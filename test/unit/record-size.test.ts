// The run record is bounded as a whole: past MAX_RECORD_RESULTS_BYTES of
// results, a result is withheld for its size, and a resumed task reading
// it fails saying so (real runner, local host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { definePlay } from '../../lib/model/play.ts';
import { defineOp } from '../../lib/model/op.ts';
import { task } from '../../lib/model/task.ts';
import * as ops from '../../lib/public-ops.ts';
import { z } from '../../lib/shell/zod.ts';
import { MAX_RECORD_RESULTS_BYTES, MAX_RESULT_BYTES } from '../../lib/runs/result-codec.ts';
import { localHosts, runOnce, sh } from '../helpers/resume-run.ts';

const PART = Math.floor(MAX_RESULT_BYTES * 0.9);
const big = defineOp({
  kind: 'test.big',
  schema: z.object({ n: z.number() }),
  describe: () => 'a large result',
  decide: (a) => ({ kind: 'ok' as const, result: { n: a.n, blob: 'x'.repeat(PART) } }),
});

test('the results a record keeps are bounded together; one past the bound is withheld for its size and a resume says so', async () => {
  const { dir, inventoryFile, store } = localHosts(['a']);
  const count = Math.ceil(MAX_RECORD_RESULTS_BYTES / PART) + 1;
  const list = () => {
    const tasks = Array.from({ length: count }, (_, n) => task({ name: `big ${n}`, op: big({ n }) }));
    return [
      definePlay({
        name: 'p',
        hosts: 'all',
        tasks: () => [
          ...tasks,
          sh('gate', (h) => `test ! -e ${dir}/bad-${h.name}`),
          task({ name: 'reads the last', op: (h) => ops.shell({ script: `echo ${String((h.result(tasks[count - 1]!) as { n: number }).n)}` }) }),
        ],
      }),
    ];
  };
  writeFileSync(`${dir}/bad-a`, '');
  const first = await runOnce(inventoryFile, list(), store, undefined);
  assert.ok(statSync(store.fileOf(first.id!)).size < MAX_RECORD_RESULTS_BYTES + 64 * 1024, 'the file stays within the bound');
  const results = store.read(first.id!).hosts.a!.results;
  assert.equal(results.find((r) => r.task.name === 'big 0')!.value !== undefined, true, 'the first results are kept');
  assert.equal(results.find((r) => r.task.name === `big ${count - 1}`)!.withheld, 'size');
  rmSync(`${dir}/bad-a`);
  const resumed = await runOnce(inventoryFile, list(), store, '');
  const failed = resumed.events.find((e) => e.type === 'task-host' && e.task === 'reads the last');
  assert.ok(failed && failed.type === 'task-host' && failed.status === 'failed' && /did not fit in the run record/.test(failed.msg ?? ''), JSON.stringify(failed));
});
