// Protocol rules (ESP, IP protocol 50) in the firewall op, and the base role
// opening ESP between the swarm nodes when the overlays are encrypted.
//
// test/fixtures/ufw-esp/ is what a real ufw 0.36.2 (Debian 12's package)
// wrote and printed, run in a network namespace of its own (`unshare -n`, so
// this machine's firewall was never touched) after:
//   ufw default deny incoming
//   ufw allow proto tcp from any to any port 22 comment "ssh (rigger keeps it open)"
//   ufw --force enable
//   ufw allow proto esp from 10.0.0.2 to any comment "swarm overlay encryption"
//   ufw allow proto esp from 192.168.0.0/16 to any
//   ufw allow proto udp from any to any port 4789
// (user.rules is /etc/ufw/user.rules, status-verbose.txt `ufw status verbose`).
// The same ufw refused `ufw allow proto esp from any to any port 50` with
// "ERROR: Invalid port with protocol 'esp'".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ops } from '../../lib/index.ts';
import type { Op } from '../../lib/model/op.ts';
import type { HostContext } from '../../lib/model/host-context.ts';
import { Task } from '../../lib/model/task.ts';
import { iptablesText, parseUfw } from '../../lib/ops/firewall/rules.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { plainVars } from '../../lib/runner/host-vars.ts';
import { base, baseDefaults } from '../../roles/base/index.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/ufw-esp/${name}`, import.meta.url), 'utf8');
const status = fixture('status-verbose.txt');
const userRules = fixture('user.rules');
// The probe's output: `ufw status`, a marker, then /etc/ufw/user.rules.
const ufwState = () => parseUfw(`${status}@@rules\n${userRules}`);

const decide = (op: Op<unknown, any>, state: unknown) => {
  assert.deepEqual(op.problems, [], 'valid parameters');
  return op.decide(state);
};
const commands = (d: ReturnType<typeof decide>) => (d.kind === 'change' ? (d.commands ?? []).map((c) => c.display()) : []);

test('ufw: ESP rules read back from what ufw wrote; a present one is left alone, a missing one is added without a port', () => {
  const s = ufwState();
  assert.equal(s.active, true);
  assert.ok(s.allowed.has('esp any 10.0.0.2/32'), [...s.allowed].join(', '));
  assert.ok(s.allowed.has('esp any 192.168.0.0/16'), [...s.allowed].join(', '));
  // The same rules again: nothing to do (what makes a second run report ok).
  const present = ops.firewall({ backend: 'ufw', rules: [{ proto: 'esp', from: '10.0.0.2', comment: 'swarm overlay encryption' }, { proto: 'esp', from: '192.168.0.0/16' }, { port: 4789, proto: 'udp' }] });
  assert.equal(decide(present, s).kind, 'ok');
  // A new peer: ufw's full syntax, no port (ufw refuses one for esp).
  const added = decide(ops.firewall({ backend: 'ufw', rules: [{ proto: 'esp', from: '10.0.0.3', comment: 'swarm overlay encryption' }] }), s);
  assert.equal(added.kind, 'change');
  assert.deepEqual(commands(added), ["ufw allow proto esp from 10.0.0.3 to any comment 'swarm overlay encryption'"]);
  assert.ok(added.kind === 'change' && added.diff?.kind === 'summary' && added.diff.lines.some((l) => l.includes('esp any 10.0.0.3/32')), 'the diff names the rule');
  // An ESP rule is not the same rule as a port rule from the same address.
  assert.equal(decide(ops.firewall({ backend: 'ufw', rules: [{ port: 4789, proto: 'udp', from: '10.0.0.2' }] }), s).kind, 'change');
});

test('a protocol rule takes no port, and only the protocols the op knows', () => {
  assert.notDeepEqual(ops.firewall({ backend: 'ufw', rules: [{ proto: 'esp', port: 50 } as never] }).problems, []);
  assert.notDeepEqual(ops.firewall({ backend: 'ufw', rules: [{ proto: 'gre' } as never] }).problems, []);
  assert.notDeepEqual(ops.firewall({ backend: 'ufw', rules: [{ proto: 'tcp' } as never] }).problems, [], 'tcp still needs a port');
  assert.deepEqual(ops.firewall({ backend: 'iptables', rules: [{ proto: 'esp', from: '10.0.0.0/8' }] }).problems, []);
});

test('iptables: an ESP rule in the chain text, accepted by iptables-restore itself', () => {
  const text = iptablesText({ backend: 'iptables', rules: [{ proto: 'esp', from: '10.0.0.2', comment: 'swarm overlay encryption' }, { port: 4789, proto: 'udp', from: 'any' }], sshPort: 22, enabled: true });
  assert.ok(text.split('\n').includes('-A RIGGER-INPUT -s 10.0.0.2 -p esp -m comment --comment "swarm overlay encryption" -j ACCEPT'), text);
  // Checked by the real parser, in a network namespace of its own: this machine's tables are not read or changed.
  const r = spawnSync('unshare', ['-n', 'iptables-restore', '--test', '--noflush'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // The same rules over a node that has them loaded: neither written nor loaded again.
  const op = ops.firewall({ backend: 'iptables', rules: [{ proto: 'esp', from: '10.0.0.2', comment: 'swarm overlay encryption' }, { port: 4789, proto: 'udp' }] });
  const live = text.split('\n').filter((l) => l.startsWith('-A RIGGER-INPUT')).length;
  const d = op.decide({ installed: true, file: text, liveRules: live, jump: true, unit: '' });
  assert.ok(d.kind === 'change' && !/write|load/.test(d.msg ?? ''), d.kind === 'change' ? d.msg : d.kind);
});

/** The base role's firewall rules for a host of an inventory, as its firewall task builds them. */
async function baseFirewallRules(inventoryFile: string, host: string, extra: Record<string, unknown> = {}) {
  const inv = await loadInventories([inventoryFile], { vaultPassphrase: () => 'homelab-example' });
  const allVars = { ...plainVars(inv.varsFor(host)), ...extra };
  const h = {
    name: host,
    vars: baseDefaults.parse(Object.fromEntries(Object.keys(baseDefaults.shape).filter((k) => k in allVars).map((k) => [k, allVars[k]]))),
    allVars,
    groups: [...inv.groupsOf(host)],
    hostVars: (n: string) => plainVars(inv.varsFor(n)),
    groupHosts: (g: string) => inv.hostsOf(g),
  } as unknown as HostContext;
  const task = base.tasks.find((t): t is Task => t instanceof Task && t.name === 'firewall');
  assert.ok(task && typeof task.options.op === 'function', 'the base role has a firewall task');
  const op = task.options.op(h);
  assert.deepEqual(op.problems, []);
  return (op.params as { rules: { proto: string; from?: string; port?: number }[] }).rules;
}

test('base role: ESP from every other swarm node when the overlays are encrypted, and not otherwise', async () => {
  // The operators' cluster: overlay_encrypted true, five nodes on 192.168.x.
  const rules = await baseFirewallRules('inventory/homelab.yml', 'ai.vibe.local');
  const esp = rules.filter((r) => r.proto === 'esp').map((r) => r.from);
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => 'homelab-example' });
  const swarm = [...new Set([...inv.hostsOf('managers'), ...inv.hostsOf('workers')])].filter((n) => n !== 'ai.vibe.local');
  const expected = swarm.map((n) => String(plainVars(inv.varsFor(n)).ansible_host));
  assert.ok(expected.length >= 3, 'the other swarm nodes');
  assert.deepEqual([...esp].sort(), [...expected].sort());
  assert.ok(!esp.includes('192.168.3.10'), 'not from itself');
  // Overlays not encrypted: no ESP rule at all.
  const plain = await baseFirewallRules('inventory/homelab.yml', 'ai.vibe.local', { overlay_encrypted: false });
  assert.deepEqual(plain.filter((r) => r.proto === 'esp'), []);
  // One network that asks for encryption is enough to need ESP.
  const one = await baseFirewallRules('inventory/homelab.yml', 'ai.vibe.local', { overlay_encrypted: false, overlay_networks: ['service_network', { name: 'secrets', encrypted: true }] });
  assert.equal(one.filter((r) => r.proto === 'esp').length, expected.length);
});
