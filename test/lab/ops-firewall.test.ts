import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { definePlay, ops } from '../../lib/index.ts';
import { ensureLab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';
import { runPlays } from '../helpers/run.ts';
import { sixSteps } from '../helpers/six-steps.ts';

let inv: string;
before(async () => {
  inv = ensureLab();
  const install = definePlay({
    name: 'firewall tools',
    hosts: 'data:cicd',
    tasks: ({ task }) => [task({ name: 'tools', op: (h) => ops.apt.packages({ names: [h.name === 'data' ? 'ufw' : 'iptables'], updateCache: true }) })],
  });
  assert.equal((await runPlays(inv, [install])).summary.exitCode, 0);
});
after(async () => {
  // Later suites expect open nodes.
  await onNode(inv, 'data', sh`ufw --force reset >/dev/null 2>&1; ufw disable >/dev/null 2>&1; true`);
  await onNode(inv, 'cicd', sh`iptables -D INPUT -j RIGGER-INPUT 2>/dev/null; iptables -F RIGGER-INPUT 2>/dev/null; iptables -X RIGGER-INPUT 2>/dev/null; systemctl disable rigger-firewall.service 2>/dev/null; rm -f /etc/iptables/rigger.rules /etc/systemd/system/rigger-firewall.service; true`);
});

const swarm = [
  { port: 2377, proto: 'tcp' as const, comment: 'swarm management' },
  { port: 7946, proto: 'tcp' as const, comment: 'swarm gossip' },
  { port: 7946, proto: 'udp' as const, comment: 'swarm gossip' },
];
const vxlan = { port: 4789, proto: 'udp' as const, comment: 'overlay vxlan' };

test('ufw: swarm ports allowed, SSH kept open, enabled with default deny', async () => {
  await sixSteps({
    inventory: inv,
    host: 'data',
    op: (v) => ops.firewall({ backend: 'ufw', rules: v === 'first' ? swarm : [...swarm, vxlan] }),
    verify: async (v) => {
      const status = (await onNode(inv, 'data', sh`LC_ALL=C ufw status verbose`)).stdout;
      assert.match(status, /^Status: active$/m);
      assert.match(status, /Default: deny \(incoming\)/);
      for (const r of ['22/tcp', '2377/tcp', '7946/tcp', '7946/udp']) assert.match(status, new RegExp(`^${r}\\s+ALLOW IN`, 'm'), r);
      assert.equal(/^4789\/udp\s+ALLOW IN/m.test(status), v === 'second');
    },
  });
  // The run's own SSH still works behind the enabled firewall.
  assert.equal((await onNode(inv, 'data', sh`echo still-here`)).stdout, 'still-here\n');
});

test('iptables: a dedicated chain from a validated rules file, restored at boot by a unit', async () => {
  await sixSteps({
    inventory: inv,
    host: 'cicd',
    op: (v) => ops.firewall({ backend: 'iptables', rules: v === 'first' ? swarm : [...swarm, { ...vxlan, from: '172.30.99.0/24' }] }),
    verify: async (v) => {
      const live = (await onNode(inv, 'cicd', sh`iptables -S RIGGER-INPUT; iptables -C INPUT -j RIGGER-INPUT && echo jump; systemctl is-enabled rigger-firewall.service`)).stdout;
      assert.match(live, /-A RIGGER-INPUT -p tcp -m tcp --dport 22 .*-j ACCEPT/);
      assert.match(live, /-A RIGGER-INPUT -p tcp -m tcp --dport 2377 .*-j ACCEPT/);
      assert.equal(/-A RIGGER-INPUT -s 172\.30\.99\.0\/24 -p udp -m udp --dport 4789/.test(live), v === 'second');
      assert.match(live, /-A RIGGER-INPUT -j DROP$/m);
      assert.match(live, /^jump$/m);
      assert.match(live, /^enabled$/m);
    },
  });
  assert.equal((await onNode(inv, 'cicd', sh`echo still-here`)).stdout, 'still-here\n');
});

// Encrypted overlays send ESP (IP protocol 50, no ports) between the swarm nodes: the rule as ufw and iptables loaded it.
const esp = (from: string) => ({ proto: 'esp' as const, from, comment: `swarm overlay ESP from ${from}` });

test('ufw: an ESP rule from a swarm peer, read back from ufw and from the iptables rules it loaded', async () => {
  await sixSteps({
    inventory: inv,
    host: 'data',
    op: (v) => ops.firewall({ backend: 'ufw', rules: v === 'first' ? [...swarm, esp('172.30.99.10')] : [...swarm, esp('172.30.99.10'), esp('172.30.99.11')] }),
    verify: async (v) => {
      const status = (await onNode(inv, 'data', sh`LC_ALL=C ufw status verbose`)).stdout;
      assert.match(status, /^Anywhere\s+ALLOW IN\s+172\.30\.99\.10\/esp\s+# swarm overlay ESP from 172\.30\.99\.10$/m, status);
      assert.equal(/^Anywhere\s+ALLOW IN\s+172\.30\.99\.11\/esp/m.test(status), v === 'second', status);
      const loaded = (await onNode(inv, 'data', sh`iptables-save -t filter`)).stdout;
      assert.match(loaded, /^-A ufw-user-input -s 172\.30\.99\.10\/32 -p esp -j ACCEPT$/m, loaded);
      assert.equal(/^-A ufw-user-input -s 172\.30\.99\.11\/32 -p esp -j ACCEPT$/m.test(loaded), v === 'second');
    },
  });
});

test('iptables: an ESP rule from a swarm peer in RIGGER-INPUT, as the kernel holds it', async () => {
  await sixSteps({
    inventory: inv,
    host: 'cicd',
    op: (v) => ops.firewall({ backend: 'iptables', rules: v === 'first' ? [...swarm, esp('172.30.99.10')] : [...swarm, esp('172.30.99.10'), esp('172.30.99.11')] }),
    verify: async (v) => {
      const loaded = (await onNode(inv, 'cicd', sh`iptables-save -t filter`)).stdout;
      assert.match(loaded, /^-A RIGGER-INPUT -s 172\.30\.99\.10\/32 -p esp -m comment --comment "swarm overlay ESP from 172\.30\.99\.10" -j ACCEPT$/m, loaded);
      assert.equal(/^-A RIGGER-INPUT -s 172\.30\.99\.11\/32 -p esp /m.test(loaded), v === 'second');
      assert.match(loaded, /^-A RIGGER-INPUT -j DROP$/m);
    },
  });
  assert.equal((await onNode(inv, 'cicd', sh`echo still-here`)).stdout, 'still-here\n');
});
