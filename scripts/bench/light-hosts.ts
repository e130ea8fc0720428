import { readFileSync, writeFileSync } from 'node:fs';
import { $ } from 'zx';
import { IMAGE, LAB_KEY, NETWORK } from '../lab/config.ts';
import type { Target } from './tools.ts';

$.verbose = false;

/**
 * sshd-only hosts for the host sweep: containers from the lab's base image
 * running just sshd (no systemd), on the lab network, removed afterwards.
 */
export const BENCH_LABEL = 'rigger.bench=1';

/** A light host is measured as any other target. */
export type LightHost = Target;

export function lightHostList(count: number): LightHost[] {
  return Array.from({ length: count }, (_, i) => ({ name: `light${String(i + 1).padStart(2, '0')}`, ip: `172.30.99.${100 + i}`, container: `rigger-bench-${i + 1}` }));
}

export async function startLightHosts(count: number): Promise<{ hosts: LightHost[]; knownHosts: string[] }> {
  const hosts = lightHostList(count);
  await removeLightHosts();
  await Promise.all(
    hosts.map((h) =>
      $`docker run -d --name ${h.container} --hostname ${h.name} --label ${BENCH_LABEL} --network ${NETWORK} --ip ${h.ip} -v ${LAB_KEY}.pub:/root/.ssh/authorized_keys:ro ${IMAGE} sh -c ${'ssh-keygen -A >/dev/null && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e'}`,
    ),
  );
  const knownHosts: string[] = [];
  for (const h of hosts) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await $`docker exec ${h.container} sh -c ${'test -e /run/sshd.pid && cat /etc/ssh/ssh_host_ed25519_key.pub'}`.nothrow();
      if (r.exitCode === 0) {
        const [type, key] = r.stdout.trim().split(/\s+/);
        knownHosts.push(`${h.ip} ${type} ${key}`);
        break;
      }
      if (Date.now() > deadline) throw new Error(`${h.name}: sshd did not start`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return { hosts, knownHosts };
}

export async function removeLightHosts(): Promise<void> {
  const ids = (await $`docker ps -aq --filter label=${BENCH_LABEL}`.nothrow()).stdout.split('\n').filter(Boolean);
  if (ids.length) await $`docker rm -f ${ids}`.nothrow();
}

export function writeKnownHosts(file: string, lines: string[], labKnownHosts: string): void {
  writeFileSync(file, readFileSync(labKnownHosts, 'utf8') + lines.join('\n') + '\n');
}
