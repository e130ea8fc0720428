import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { ops } from '../../lib/index.ts';
import { ensureLab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';
import { sixSteps } from '../helpers/six-steps.ts';

let inv: string;
const HOST = 'gateway';
const D = '/srv/rigger-test/command';
before(async () => {
  inv = ensureLab();
  await onNode(inv, HOST, sh`rm -rf ${D} && mkdir -p ${D}`);
});

test('command with creates: runs once, then is ok; check mode predicts it', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.command({ argv: ['touch', `${D}/${v}.done`], creates: `${D}/${v}.done` }),
    verify: async (v) => assert.equal((await onNode(inv, HOST, sh`ls ${D}`)).stdout, v === 'first' ? 'first.done\n' : 'first.done\nsecond.done\n'),
  });
});

test('shell with removes: runs while the file exists', async () => {
  await onNode(inv, HOST, sh`touch ${D}/a.pending ${D}/b.pending`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.shell({ script: `f=${D}/${v === 'first' ? 'a' : 'b'}.pending; mv "$f" "\${f%.pending}.processed"`, removes: `${D}/${v === 'first' ? 'a' : 'b'}.pending` }),
    verify: async (v) => {
      const ls = (await onNode(inv, HOST, sh`ls ${D} | grep -E 'pending|processed'`)).stdout;
      assert.equal(ls, v === 'first' ? 'a.processed\nb.pending\n' : 'a.processed\nb.processed\n');
    },
  });
});
