// The lab scripts' one `!vault` writer (scripts/lab/vault-yaml.ts, used by the
// lab inventory and the layouts' inventories): what it writes, the project's
// own inventory loader reads back as the values, and no value stands in the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadInventories } from '../../lib/inventory/load.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { vault, yamlWithVault } from '../../scripts/lab/vault-yaml.ts';
import { scratchDir } from '../helpers/run.ts';

const PASSWORD = 'pa$$ "word" \'é\\';
const KEY = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA\n-----END PRIVATE KEY-----\n';

test('yamlWithVault: vault() values anywhere in the data (map, list item, nested host vars) load back through the inventory loader as the values; the rest as written', async () => {
  const file = path.join(scratchDir(), 'inventory.yml');
  const data = {
    all: {
      vars: { plain: 'kept', port: 5432, secrets: { db: vault(PASSWORD) } },
      children: {
        data_nodes: {
          hosts: { data: { ansible_host: '127.0.0.1', backup_items: [{ kind: 'postgres', password: vault(PASSWORD) }], files: { 'privkey.pem': vault(KEY) } } },
        },
      },
    },
  };
  writeFileSync(file, yamlWithVault(data, 'lab-passphrase'));
  const text = readFileSync(file, 'utf8');
  assert.equal(text.match(/!vault /g)?.length, 3, 'three !vault values');
  for (const secret of ['pa$$', 'BEGIN PRIVATE KEY']) assert.ok(!text.includes(secret), `${secret} is not in the file`);

  const inv = await loadInventories([file], { vaultPassphrase: () => 'lab-passphrase' });
  const vars = Object.fromEntries([...inv.varsFor('data')].map(([k, v]) => [k, v.value]));
  const reveal = (v: unknown) => (assert.ok(v instanceof Secret, `a Secret, not ${JSON.stringify(v)}`), v.reveal());
  assert.equal(vars.plain, 'kept');
  assert.equal(vars.port, 5432);
  assert.equal(reveal((vars.secrets as { db: unknown }).db), PASSWORD);
  assert.equal(reveal((vars.backup_items as { password: unknown }[])[0]!.password), PASSWORD);
  assert.equal(reveal((vars.files as Record<string, unknown>)['privkey.pem']), KEY);

  await assert.rejects(loadInventories([file], { vaultPassphrase: () => 'another' }), /wrong vault passphrase/, 'another passphrase does not open the values');
});
