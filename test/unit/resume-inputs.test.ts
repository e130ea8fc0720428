// What a resume must be given again: the same --tags, --skip-tags and
// playbook arguments (a narrower --limit is allowed), the same vars files
// beside the inventory, and the same vault values, detected through a
// digest keyed from the vault passphrase, never an unkeyed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay } from '../../lib/model/play.ts';
import { task } from '../../lib/model/task.ts';
import * as ops from '../../lib/public-ops.ts';
import { encryptValue } from '../../lib/shell/vault.ts';
import { leaks } from '../helpers/secret-forms.ts';
import { localHosts, runOnce, sh } from '../helpers/resume-run.ts';

const refused = (pattern: RegExp) => (e: Error & { exitCode?: number }) => e.exitCode === 4 && pattern.test(e.message);

function failingOnB(dir: string) {
  return [
    definePlay({
      name: 'p',
      hosts: 'all',
      tasks: () => [
        task({ name: 'tagged', tags: ['web'], op: (h) => ops.shell({ script: `test ! -e ${dir}/bad-${h.name}` }) }),
        sh('untagged', (h) => `echo untagged >> ${dir}/${h.name}.log`),
      ],
    }),
  ];
}

test('a resume with other --tags, --skip-tags or playbook flags is refused, naming them; a narrower --limit is not', async () => {
  const { dir, inventoryFile, store } = localHosts(['a', 'b', 'c']);
  writeFileSync(`${dir}/bad-b`, '');
  writeFileSync(`${dir}/bad-c`, '');
  const first = await runOnce(inventoryFile, failingOnB(dir), store, undefined, { tags: ['web'], flags: { verify: 'set1' } });
  assert.equal(first.code, 2);
  await assert.rejects(runOnce(inventoryFile, failingOnB(dir), store, '', { flags: { verify: 'set1' } }), refused(/the arguments \(--tags\) changed since run/));
  await assert.rejects(runOnce(inventoryFile, failingOnB(dir), store, '', { tags: ['web'], skipTags: ['db'], flags: { verify: 'set1' } }), refused(/the arguments \(--skip-tags\) changed/));
  await assert.rejects(runOnce(inventoryFile, failingOnB(dir), store, '', { tags: ['web'], flags: { verify: 'set2' } }), refused(/the arguments \(--verify\) changed/));
  rmSync(`${dir}/bad-b`);
  const narrowed = await runOnce(inventoryFile, failingOnB(dir), store, '', { tags: ['web'], flags: { verify: 'set1' }, limit: 'b' });
  assert.deepEqual(narrowed.ran, ['b tagged changed'], 'the untagged task stays out, as in the run resumed');
  assert.equal(store.read(narrowed.id!).limit, 'b');
});

test('a vars file beside the inventory that changed refuses the resume, naming it', async () => {
  const { dir, inventoryFile, store } = localHosts(['a', 'b']);
  mkdirSync(path.join(dir, 'group_vars'));
  writeFileSync(path.join(dir, 'group_vars', 'all.yml'), 'port: 80\n');
  writeFileSync(`${dir}/bad-b`, '');
  await runOnce(inventoryFile, failingOnB(dir), store, undefined);
  writeFileSync(path.join(dir, 'group_vars', 'all.yml'), 'port: 80\n# a comment changes no value, but the file\n');
  await assert.rejects(runOnce(inventoryFile, failingOnB(dir), store, ''), refused(/the inventory \([^)]*group_vars\/all\.yml\) changed/));
});

test('a vault value changed in group_vars refuses the resume; the record holds only a digest keyed from the passphrase', async () => {
  const { dir, inventoryFile, store } = localHosts(['a', 'b']);
  const before = 'first-vault-value-0123';
  const after = 'second-vault-value-4567';
  const vaulted = (v: string) => `db_password: !vault |\n  ${encryptValue(v, 'test')}\n`;
  mkdirSync(path.join(dir, 'group_vars'));
  writeFileSync(path.join(dir, 'group_vars', 'all.yml'), vaulted(before));
  writeFileSync(`${dir}/bad-b`, '');
  const first = await runOnce(inventoryFile, failingOnB(dir), store, undefined);
  const text = readFileSync(store.fileOf(first.id!), 'utf8');
  assert.deepEqual(leaks(text, [before]), [], 'no form of the secret, no unkeyed digest of it');
  const record = store.read(first.id!);
  assert.equal(record.fingerprints.key?.kdf, 'scrypt');
  assert.match(record.fingerprints.variables.db_password!, /^[0-9a-f]{64}$/);
  // Encrypted again with the same value: the file differs, the variable does not.
  writeFileSync(path.join(dir, 'group_vars', 'all.yml'), vaulted(before));
  await assert.rejects(runOnce(inventoryFile, failingOnB(dir), store, ''), (e: Error) => !/the variables/.test(e.message) && /group_vars\/all\.yml/.test(e.message));
  writeFileSync(path.join(dir, 'group_vars', 'all.yml'), vaulted(after));
  await assert.rejects(runOnce(inventoryFile, failingOnB(dir), store, ''), refused(/the variables \(db_password\) changed/));
});
