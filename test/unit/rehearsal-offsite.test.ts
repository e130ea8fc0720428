import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Scalar } from 'yaml';
import { loadInventories } from '../../lib/inventory/load.ts';
import { parseDocument } from '../../lib/shell/yaml.ts';
import { encryptValue } from '../../lib/shell/vault.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { offsiteConfig } from '../../lib/backup/config.ts';
import { LAB_REMOTE } from '../../scripts/lab/config.ts';
import { HOMELAB_VAULT_PASSWORD, rehearsalInventoryText } from '../../scripts/lab/rehearsal.ts';
import { RCLONE_IMAGE } from '../../scripts/lab/remote.ts';
import { refOf, REGISTRY } from '../../scripts/lab/services.ts';
import { scratchDir } from '../helpers/run.ts';

// The rehearsal's off-site copy goes to the lab remote (rclone serve sftp on
// the lab network) with a vaulted rclone config, as homelab.yml's goes to B2.
// test/lab/lab.test.ts logs in with this config on the running remote.

const DATA = ['all', 'children', 'workers', 'children', 'data_nodes', 'hosts', 'data.vibe.local'];

/** The data node's variables as the loader gives them from a rehearsal inventory text (vault decrypted). */
async function dataVars(text: string): Promise<Record<string, unknown>> {
  const file = path.join(scratchDir(), 'rehearsal.yml');
  writeFileSync(file, text);
  const inv = await loadInventories([file], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  return Object.fromEntries([...inv.varsFor('data.vibe.local')].map(([k, v]) => [k, v.value]));
}

const plain = (v: unknown) => (v instanceof Secret ? v.reveal() : String(v));

test("the data node's off-site remote is the lab remote, its rclone config vaulted with homelab.yml's passphrase", async () => {
  const text = rehearsalInventoryText();
  const vars = await dataVars(text);
  const offsite = offsiteConfig.parse(vars.backup_offsite);
  assert.equal(offsite.remote, `${LAB_REMOTE.name}:rigger`);
  assert.equal(offsite.max_delete, 5);
  assert.ok(offsite.rclone_config, 'an rclone config of its own');
  // Vaulted in the file, never the config in clear.
  assert.match(text, /rclone_config: !vault \$RIGGER_VAULT;/);
  assert.ok(!text.includes(LAB_REMOTE.ip), 'the remote address is inside the vaulted config only');
  const conf = offsite.rclone_config.reveal();
  const sections = [...conf.matchAll(/^\[([^\]]+)\]$/gm)].map((m) => m[1]);
  assert.deepEqual(sections, [LAB_REMOTE.name]);
  const kv = Object.fromEntries([...conf.matchAll(/^(\w+) = (.*)$/gm)].map((m) => [m[1], m[2]]));
  assert.deepEqual({ ...kv, pass: undefined }, { type: 'sftp', host: LAB_REMOTE.ip, port: String(LAB_REMOTE.port), user: LAB_REMOTE.user, pass: undefined });
  // rclone itself reads the obscured password back as the remote's.
  assert.equal(execFileSync('rclone', ['reveal', kv.pass!], { encoding: 'utf8' }).trim(), LAB_REMOTE.password);
  // The same config from every write: the NAS's rclone.conf stays unchanged from one `rehearse` to the next.
  assert.equal(offsiteConfig.parse((await dataVars(rehearsalInventoryText())).backup_offsite).rclone_config!.reveal(), conf);
});

test("homelab.yml's off-site crypt keys reach the rehearsal as they are, on the host or the group", async () => {
  const doc = parseDocument(readFileSync('inventory/homelab.yml', 'utf8'));
  const vaulted = (s: string) => Object.assign(new Scalar(encryptValue(s, HOMELAB_VAULT_PASSWORD)), { tag: '!vault' });
  doc.setIn([...DATA, 'backup_offsite_crypt_password'], vaulted('crypt-password-of-the-nas'));
  // The salt on the group only (homelab.yml keeps both keys on the NAS: a host's own value would win).
  doc.deleteIn([...DATA, 'backup_offsite_crypt_salt']);
  doc.setIn(['all', 'vars', 'backup_offsite_crypt_salt'], vaulted('crypt-salt-of-the-cluster'));
  const vars = await dataVars(rehearsalInventoryText(doc.toString({ lineWidth: 0 })));
  assert.equal(plain(vars.backup_offsite_crypt_password), 'crypt-password-of-the-nas');
  assert.equal(plain(vars.backup_offsite_crypt_salt), 'crypt-salt-of-the-cluster');
  assert.equal((vars.backup_offsite as { remote: string }).remote, `${LAB_REMOTE.name}:rigger`);
});

test("the NAS's rclone image is Debian's rclone from the lab registry, the one the lab remote runs", async () => {
  const vars = await dataVars(rehearsalInventoryText());
  // DSM has no apt: the off-site copy runs rclone from an image, which the lab cannot pull from Docker Hub.
  assert.equal(vars.backup_rclone_image, refOf(RCLONE_IMAGE));
  assert.match(String(vars.backup_rclone_image), new RegExp(`^${REGISTRY.replace(/\./g, '\\.')}/lab/rclone:[0-9a-f]{12}$`));
  assert.match(RCLONE_IMAGE.dockerfile, /apt-get .*install .* rclone /);
});
