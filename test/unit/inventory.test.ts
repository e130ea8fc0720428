import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadInventories } from '../../lib/inventory/load.ts';
import { resolvePattern } from '../../lib/inventory/patterns.ts';
import { plainVars, resolveHostVars, typedVars } from '../../lib/runner/host-vars.ts';
import { InputError } from '../../lib/shell/errors.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { encryptValue } from '../../lib/shell/vault.ts';
import type { VarValue } from '../../lib/inventory/model.ts';

// The example inventory's !vault values use this published example passphrase.
const noVault = { vaultPassphrase: () => 'homelab-example' };

test('the real cluster inventory parses with its hosts, groups and variables (no connection)', async () => {
  const inv = await loadInventories(['inventory/homelab.yml'], noVault);
  assert.deepEqual(inv.hostNames(), ['gateway.vibe.local', 'ai.vibe.local', 'data.vibe.local', 'cicd.vibe.local']);
  assert.deepEqual(inv.hostsOf('workers'), ['ai.vibe.local', 'data.vibe.local', 'cicd.vibe.local']);
  for (const g of ['managers', 'workers', 'ai_nodes', 'data_nodes', 'cicd_nodes']) assert.ok(inv.groups.has(g), g);
  const ai = plainVars(inv.varsFor('ai.vibe.local'));
  assert.equal(ai.ansible_host, '192.168.3.10');
  assert.equal(ai.ansible_port, 222);
  assert.equal(ai.ansible_user, 'deploy');
  assert.equal(ai.nvidia_gpu, true);
  assert.equal(ai.timezone, 'Asia/Seoul');
  assert.deepEqual(ai.overlay_networks, ['dmz_network', 'service_network', 'ai_network', 'data_network', 'build_network', 'monitoring']);
  assert.ok([...inv.groupsOf('ai.vibe.local')].includes('workers'));
});

function layout(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'inv-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test('variable precedence: all < parent < child < host < group_vars/host_vars files < play < -e', async () => {
  const dir = layout({
    'hosts.yml': `all:
  vars: { v_all: inv-all, v_parent: inv-all, v_child: inv-all, v_host: inv-all, v_play: inv-all, v_extra: inv-all, v_gfile: inv-all }
  children:
    parent:
      vars: { v_parent: parent, v_child: parent, v_host: parent }
      children:
        child:
          vars: { v_child: child, v_host: child }
          hosts:
            h1: { v_host: host, v_hfile: host }
`,
    'group_vars/all.yml': 'v_gfile: group-file\n',
    'group_vars/child/main.yml': 'v_child: child-file\n',
    'host_vars/h1.yml': 'v_hfile: host-file\n',
  });
  const inv = await loadInventories([path.join(dir, 'hosts.yml')], noVault);
  const play = new Map<string, VarValue>([['v_play', { value: 'play', origin: 'play' }], ['v_extra', { value: 'play', origin: 'play' }]]);
  const extra = new Map<string, VarValue>([['v_extra', { value: 'extra', origin: '-e' }]]);
  const v = plainVars(resolveHostVars(inv, 'h1', play, extra));
  assert.equal(v.v_all, 'inv-all');
  assert.equal(v.v_parent, 'parent');
  assert.equal(v.v_child, 'child-file', 'group_vars file beats the inventory file for the same group');
  assert.equal(v.v_host, 'host');
  assert.equal(v.v_gfile, 'group-file');
  assert.equal(v.v_hfile, 'host-file');
  assert.equal(v.v_play, 'play');
  assert.equal(v.v_extra, 'extra');
  // role defaults are the lowest layer: a default only shows when nothing else sets the variable
  const typed = typedVars(z.object({ v_host: z.string().default('role-default'), v_unset: z.string().default('role-default') }), resolveHostVars(inv, 'h1', play, extra), 'role r', 'h1');
  assert.equal(typed.v_host, 'host');
  assert.equal(typed.v_unset, 'role-default');
});

test('a role variable of the wrong type names the inventory line that set it', async () => {
  const dir = layout({ 'hosts.yml': 'all:\n  hosts:\n    h1:\n      docker_port: "not a number"\n' });
  const inv = await loadInventories([path.join(dir, 'hosts.yml')], noVault);
  const schema = z.object({ docker_port: z.number().int().default(2375) });
  assert.throws(
    () => typedVars(schema, resolveHostVars(inv, 'h1', new Map(), new Map()), 'role docker', 'h1'),
    (err: unknown) => err instanceof InputError && /hosts\.yml:4:20: variable docker_port of role docker for host h1/.test(err.message),
  );
});

test('sibling groups merge by ansible_group_priority, then name', async () => {
  const dir = layout({
    'hosts.yml': `all:
  children:
    a_group: { hosts: { h: {} }, vars: { x: a, ansible_group_priority: 5 } }
    b_group: { hosts: { h: {} }, vars: { x: b } }
`,
  });
  const inv = await loadInventories([path.join(dir, 'hosts.yml')], noVault);
  assert.equal(plainVars(inv.varsFor('h')).x, 'a');
});

test('!vault values become Secrets with the passphrase', async () => {
  const enc = encryptValue('s3cr3t-db', 'pp');
  const dir = layout({ 'hosts.yml': `all:\n  hosts:\n    h1:\n      db_password: !vault ${enc}\n` });
  const inv = await loadInventories([path.join(dir, 'hosts.yml')], { vaultPassphrase: () => 'pp' });
  const pw = plainVars(inv.varsFor('h1')).db_password;
  assert.ok(pw instanceof Secret);
  assert.equal((pw as Secret).reveal(), 's3cr3t-db');
});

test('host ranges, host:port keys, and TypeScript inventories', async () => {
  const dir = layout({
    'hosts.yml': 'all:\n  hosts:\n    web[01:03].lan:\n    db.lan:2200:\n',
    'inv.ts': `import { defineInventory } from '${path.resolve('lib/index.ts')}';
export default defineInventory({ all: { children: { ts_group: { hosts: { tshost: { ansible_port: 2201 } } } } } });
`,
  });
  const inv = await loadInventories([path.join(dir, 'hosts.yml'), path.join(dir, 'inv.ts')], noVault);
  assert.deepEqual(inv.hostNames(), ['web01.lan', 'web02.lan', 'web03.lan', 'db.lan', 'tshost']);
  assert.equal(plainVars(inv.varsFor('db.lan')).ansible_port, 2200);
  assert.deepEqual(inv.hostsOf('ts_group'), ['tshost']);
});

test('host patterns: names, groups, globs, regex, union, intersection, exclusion', async () => {
  const inv = await loadInventories(['inventory/homelab.yml'], noVault);
  const r = (p: string) => resolvePattern(inv, p, 'test');
  assert.deepEqual(r('all'), inv.hostNames());
  assert.deepEqual(r('managers'), ['gateway.vibe.local']);
  assert.deepEqual(r('ai*'), ['ai.vibe.local']);
  assert.deepEqual(r('~^(ai|data)\\.'), ['ai.vibe.local', 'data.vibe.local']);
  assert.deepEqual(r('managers:ai_nodes'), ['gateway.vibe.local', 'ai.vibe.local']);
  assert.deepEqual(r('managers,ai_nodes'), ['gateway.vibe.local', 'ai.vibe.local']);
  assert.deepEqual(r('workers:&ai_nodes'), ['ai.vibe.local']);
  assert.deepEqual(r('workers:!ai_nodes'), ['data.vibe.local', 'cicd.vibe.local']);
  assert.deepEqual(r('all:!managers:!cicd*'), ['ai.vibe.local', 'data.vibe.local']);
  assert.throws(() => r('managers:nosuchgroup'), (e: unknown) => e instanceof InputError && /"nosuchgroup" is not a host or group/.test(e.message));
  assert.throws(() => r('zzz*'), InputError);
});
