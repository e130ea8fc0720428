import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { sh } from '../../lib/shell/command.ts';
import { startSshdWithOwnTmp, transportTo, type TestSshd } from '../helpers/sshd.ts';

/** A host whose TMPDIR is its own, so the sweep's effect there is this test's. */
let sshd: TestSshd;
let remoteTmp: string;
before(async () => {
  ({ sshd, remoteTmp } = await startSshdWithOwnTmp('rigger-sweep-'));
});
after(async () => sshd.stop());

const transport = () => transportTo(sshd);

test("item 9 review (as item 15): the leftover sweep ages dirs by the host's clock, keeping 30 s and 9 min old ones, removing 11 min old ones", async () => {
  // Aged by the host's own clock: a run still inside its command (or one
  // whose controller's clock is behind) must keep its payload and run-ahead dirs.
  const ages: Record<string, number> = {
    'rigger.aaaaaaa1': 30,
    'rigger-ahead.aaaaaaa2': 30,
    'rigger.bbbbbbb1': 9 * 60,
    'rigger-ahead.bbbbbbb2': 9 * 60,
    'rigger.ccccccc1': 11 * 60,
    'rigger-ahead.ccccccc2': 11 * 60,
  };
  const planter = transport();
  try {
    for (const [name, age] of Object.entries(ages)) {
      const dir = path.join(remoteTmp, name);
      const r = await planter.exec(sh`mkdir ${dir} && touch -d ${`${age} seconds ago`} ${dir}`);
      assert.equal(r.code, 0, r.stderr.toString());
    }
  } finally {
    await planter.close();
  }
  assert.equal(readdirSync(remoteTmp).length, 6, 'all six planted');
  // A new transport's first command sweeps.
  const next = transport();
  try {
    const r = await next.exec(sh`true`);
    assert.equal(r.code, 0, r.stderr.toString());
  } finally {
    await next.close();
  }
  assert.deepEqual(readdirSync(remoteTmp).sort(), ['rigger-ahead.aaaaaaa2', 'rigger-ahead.bbbbbbb2', 'rigger.aaaaaaa1', 'rigger.bbbbbbb1']);
});
