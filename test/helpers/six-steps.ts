import assert from 'node:assert/strict';
import { definePlay } from '../../lib/model/play.ts';
import type { Op } from '../../lib/model/op.ts';
import type { HostContext } from '../../lib/model/host-context.ts';
import { runPlays } from './run.ts';
import { stateHash } from './node.ts';

export type Variant = 'first' | 'second';

export interface SixSteps {
  inventory: string;
  host: string;
  /** The op with its first parameters, and with one parameter changed. */
  op: (variant: Variant, h: HostContext) => Op<unknown, any>;
  /** Reads the node itself (file bytes, systemctl, findmnt, dpkg-query) and asserts the variant's state. */
  verify: (variant: Variant) => Promise<void>;
}

async function step(s: SixSteps, variant: Variant, check: boolean) {
  const play = definePlay({ name: 'six steps', hosts: s.host, tasks: ({ task }) => [task({ name: 'op under test', op: (h) => s.op(variant, h) })] });
  const o = await runPlays(s.inventory, [play], { check, diff: true });
  const ev = o.events.find((e) => e.type === 'task-host');
  assert.ok(ev && ev.type === 'task-host', 'the task ran');
  return ev;
}

/**
 * ARCHITECTURE.md's sequence for every op: check (changed) -> apply
 * (changed) -> apply again (ok) -> check again (ok) -> change a parameter in
 * check mode (changed, node untouched) -> apply the change (changed).
 */
export async function sixSteps(s: SixSteps): Promise<void> {
  const expect = async (n: number, variant: Variant, check: boolean, status: 'changed' | 'ok') => {
    const before = check ? await stateHash(s.inventory, s.host) : '';
    const ev = await step(s, variant, check);
    assert.equal(ev.status, status, `step ${n} (${check ? 'check' : 'apply'} ${variant}): ${ev.msg ?? ''}`);
    if (check) assert.equal(await stateHash(s.inventory, s.host), before, `step ${n}: check mode changed the node`);
    return ev;
  };
  await expect(1, 'first', true, 'changed');
  await expect(2, 'first', false, 'changed');
  await s.verify('first');
  await expect(3, 'first', false, 'ok');
  await expect(4, 'first', true, 'ok');
  await expect(5, 'second', true, 'changed');
  await s.verify('first');
  await expect(6, 'second', false, 'changed');
  await s.verify('second');
}
