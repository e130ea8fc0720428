// rigger loads zod's CommonJS build (lib/shell/zod.ts); a user's playbook may
// import 'zod' itself and get the ES module build: two copies in one process.
// These tests prove they work together where rigger meets user schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z as esmZ } from 'zod';
import { definePlay, defineRole, InputError, ops, z as riggerZ } from '../../lib/index.ts';
import { localInventory, runPlays, scratchDir } from '../helpers/run.ts';

test('rigger’s z and an imported zod are two copies that accept each other’s schemas and errors', () => {
  assert.notEqual(riggerZ, esmZ, 'two module instances, or this test proves nothing');
  const mixed = riggerZ.object({ port: esmZ.number().int(), name: riggerZ.string() });
  assert.deepEqual(mixed.parse({ port: 22, name: 'a' }), { port: 22, name: 'a' });
  assert.ok(esmZ.string() instanceof riggerZ.ZodType);
  const failed = mixed.safeParse({ port: 'x', name: 'a' });
  assert.equal(failed.success, false);
  assert.ok(!failed.success && failed.error instanceof esmZ.ZodError);
});

test('a role whose defaults come from an imported zod gets typed variables, and a bad value names its inventory line', async () => {
  const dir = scratchDir();
  const role = defineRole({
    name: 'port',
    defaults: esmZ.object({ port: esmZ.number().int().default(2222) }),
    build: ({ task }) => ({ tasks: [task({ name: 'write', op: (h) => ops.copy({ path: `${dir}/${h.name}`, content: `${h.vars.port + 1}\n` }) })] }),
  });
  const ok = await runPlays(localInventory(['a']), [definePlay({ name: 'p', hosts: 'all', roles: [role] })]);
  assert.equal(ok.summary.exitCode, 0);
  assert.equal(readFileSync(`${dir}/a`, 'utf8'), '2223\n', 'the default came through the imported schema');
  const bad = localInventory(['b'], '      port: not-a-number\n');
  await assert.rejects(
    () => runPlays(bad, [definePlay({ name: 'p', hosts: 'all', roles: [role] })]),
    (err: unknown) => err instanceof InputError && /hosts\.yml:\d+:\d+: .*port/.test(err.message),
  );
});
