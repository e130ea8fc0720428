// The kernel-features fact (can this kernel carry ESP and IPVS?) and the
// preflight verdict built on it. The fact's own command runs by dash and bash
// on this machine (whose kernel has neither: /proc/config.gz says so) and in
// scratch roots holding a Debian-style /boot/config, a module tree, a loaded
// module, or nothing to tell by.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { kernelFeatures, type KernelFeatures } from '../../lib/facts/kernel.ts';
import { gatherInRoot as gather } from '../helpers/fact-in-root.ts';
import { kernelVerdict } from '../../roles/kernel-needs.ts';

const rel = release();
// A /proc without config.gz: the machine's own would answer first.
const noProcConfig = { '/proc/version': `Linux version ${rel}\n` };
const both = (features: KernelFeatures[]) => {
  assert.deepEqual(features[0], features[1], 'dash and bash agree');
  return features[0]!;
};

test("this machine's kernel: no ESP and no IPVS, read from its own /proc/config.gz", () => {
  const k = both(gather(kernelFeatures, {}));
  assert.equal(k.release, rel);
  assert.deepEqual(k.esp, { state: 'no', source: 'CONFIG_INET_ESP is not set in /proc/config.gz' });
  assert.deepEqual(k.ipvs, { state: 'no', source: 'CONFIG_IP_VS is not set in /proc/config.gz' });
});

test("a Debian or Ubuntu kernel's /boot/config: ESP and IPVS as modules", () => {
  const config = `CONFIG_XFRM=y\nCONFIG_INET_ESP=m\nCONFIG_INET_ESP_OFFLOAD=m\nCONFIG_IP_VS=m\n`;
  const k = both(gather(kernelFeatures, { ...noProcConfig, [`/boot/config-${rel}`]: config }));
  assert.deepEqual(k.esp, { state: 'yes', source: `CONFIG_INET_ESP=m in /boot/config-${rel}` });
  assert.deepEqual(k.ipvs, { state: 'yes', source: `CONFIG_IP_VS=m in /boot/config-${rel}` });
});

test('no kernel config: the module tree and the loaded modules tell', () => {
  const tree = both(gather(kernelFeatures, { ...noProcConfig, [`/usr/lib/modules/${rel}/kernel/net/ipv4/esp4.ko.xz`]: '', [`/usr/lib/modules/${rel}/modules.builtin`]: 'kernel/net/ipv4/tcp_cubic.ko\n' }));
  assert.equal(tree.esp.state, 'yes', tree.esp.source);
  assert.equal(tree.ipvs.state, 'no', tree.ipvs.source);
  assert.match(tree.ipvs.source, /ip_vs/);
  const loaded = both(gather(kernelFeatures, { ...noProcConfig, '/sys/module/ip_vs/refcnt': '3\n' }));
  assert.deepEqual(loaded.ipvs, { state: 'yes', source: 'loaded, /sys/module/ip_vs' });
  // Nothing to tell by: unknown, never a guess.
  assert.equal(loaded.esp.state, 'unknown');
});

test('preflight verdict: ESP where overlays are encrypted, IPVS where services use the routing mesh, naming the node', () => {
  const lab = both(gather(kernelFeatures, {}));
  const h = (vars: Record<string, unknown>, groups = ['managers'], k: KernelFeatures = lab) => ({ name: 'gateway', groups, allVars: vars, fact: () => k }) as never;
  const encrypted = { overlay_networks: ['service_network'], overlay_encrypted: true, stacks: [{ name: 'web' }], service_publish_mode: 'host', service_endpoint_mode: 'dnsrr' };
  const esp = kernelVerdict(h(encrypted));
  assert.equal(esp.level, 'fail');
  assert.match(esp.detail, /gateway/);
  assert.match(esp.detail, /ESP \(CONFIG_INET_ESP is not set in \/proc\/config\.gz\)/);
  assert.doesNotMatch(esp.detail, /IPVS/);
  const ingress = kernelVerdict(h({ ...encrypted, overlay_encrypted: false, service_publish_mode: 'ingress' }));
  assert.equal(ingress.level, 'fail');
  assert.match(ingress.detail, /IPVS \(CONFIG_IP_VS is not set.*ingress/);
  assert.doesNotMatch(ingress.detail, /ESP/);
  // The lab's own settings need neither; a host outside the swarm needs neither.
  assert.equal(kernelVerdict(h({ ...encrypted, overlay_encrypted: false })).level, 'pass');
  assert.equal(kernelVerdict(h(encrypted, ['backup_hosts'])).level, 'pass');
  // A kernel that has both passes; one that cannot be read is a warning, not a refusal.
  const debian = { release: '6.1.0-28-amd64', esp: { state: 'yes', source: 'CONFIG_INET_ESP=m in /boot/config-6.1.0-28-amd64' }, ipvs: { state: 'yes', source: 'CONFIG_IP_VS=m in /boot/config-6.1.0-28-amd64' } } as const;
  assert.equal(kernelVerdict(h({ ...encrypted, service_publish_mode: 'ingress' }, ['workers'], debian)).level, 'pass');
  const unread = { release: '4.4.302+', esp: { state: 'unknown', source: 'no kernel config or module list' }, ipvs: { state: 'unknown', source: 'no kernel config or module list' } } as const;
  assert.equal(kernelVerdict(h(encrypted, ['workers'], unread)).level, 'warn');
});
