// The `rigger` command's subcommands from a checkout (lib/cli/rigger.ts under
// tsx, the same code the package compiles): vault view and rekey of a whole
// inventory file, the inventory listing, and a clear word for an unknown one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encryptValue } from '../../lib/shell/vault.ts';
import { runCli } from '../helpers/cli.ts';

const rigger = (args: string[], env: Record<string, string> = {}) => runCli(['lib/cli/rigger.ts', ...args], env);

test('rigger vault view shows a file in clear and rekey re-encrypts every value, all or nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-vault-'));
  const file = path.join(dir, 'hosts.yml');
  const original = `all:\n  vars:\n    a: !vault ${encryptValue('alpha', 'old')}\n  hosts:\n    h1:\n      b: !vault "${encryptValue('beta', 'old')}"\n`;
  writeFileSync(file, original);
  const newPass = path.join(dir, 'new-pass');
  // Mode 0600: a passphrase file others may read is refused, as OpenSSH refuses such a key.
  writeFileSync(newPass, 'new\n', { mode: 0o600 });

  const view = await rigger(['vault', 'view', file], { RIGGER_VAULT_PASSWORD: 'old' });
  assert.equal(view.code, 0, view.stderr);
  assert.match(view.stdout, /a: "alpha"\n[\s\S]*b: "beta"\n/);

  const wrong = await rigger(['vault', 'rekey', file, '--new-vault-password-file', newPass], { RIGGER_VAULT_PASSWORD: 'nope' });
  assert.equal(wrong.code, 4);
  assert.match(wrong.stderr, /hosts\.yml:3: cannot decrypt/);
  assert.equal(readFileSync(file, 'utf8'), original, 'a failed rekey leaves the file as it was');

  const rekey = await rigger(['vault', 'rekey', file, '--new-vault-password-file', newPass], { RIGGER_VAULT_PASSWORD: 'old' });
  assert.equal(rekey.code, 0, rekey.stderr);
  assert.match(rekey.stderr, /2 values re-encrypted/);
  assert.equal((await rigger(['vault', 'view', file], { RIGGER_VAULT_PASSWORD: 'old' })).code, 4);
  const after = await rigger(['vault', 'view', file], { RIGGER_VAULT_PASSWORD: 'new' });
  assert.match(after.stdout, /a: "alpha"\n[\s\S]*b: "beta"\n/);
});

test('rigger inventory prints what ansible-inventory prints (vaulted values kept encrypted), and draws the group tree', async () => {
  const env = { RIGGER_VAULT_PASSWORD: 'homelab-example' };
  const list = await rigger(['inventory', '-i', 'inventory/homelab.yml'], env);
  assert.equal(list.code, 0, list.stderr);
  const json = JSON.parse(list.stdout) as Record<string, { hosts?: string[]; children?: string[] }> & { _meta: { hostvars: Record<string, Record<string, unknown>> } };
  assert.deepEqual(json.ai_nodes!.hosts, ['ai.vibe.local']);
  assert.deepEqual(json.workers!.children, ['ai_nodes', 'data_nodes', 'cicd_nodes']);
  const data = json._meta.hostvars['data.vibe.local']!;
  assert.equal(data.timezone, 'Asia/Seoul');
  assert.match(String((data.backup_webhook as { __ansible_vault: string }).__ansible_vault), /^\$RIGGER_VAULT;1;/, 'a !vault value is shown as Ansible shows one, never decrypted');
  const graph = await rigger(['inventory', '-i', 'inventory/homelab.yml', '--graph'], env);
  assert.match(graph.stdout, /^@all:\n  \|--@ungrouped:\n  \|--@managers:\n  \|  \|--gateway\.vibe\.local\n  \|--@workers:\n  \|  \|--@ai_nodes:\n  \|  \|  \|--ai\.vibe\.local\n/);
  const unknown = await rigger(['frobnicate']);
  assert.equal(unknown.code, 4);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});
