import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { LAB_INVENTORY, LAB_KEY, LAB_KNOWN_HOSTS, NODES } from './config.ts';

/**
 * inventory/lab.yml in Ansible's format: the nodes' addresses, the lab key,
 * the pinned host keys, and the lab's variables where it differs from a
 * real cluster (LAB.md): Debian's docker.io, overlay encryption off (its
 * traffic does not flow on this kernel), dnsrr endpoints (no IPVS).
 */
export function writeLabInventory(): void {
  const host = (name: string) => {
    const n = NODES.find((x) => x.name === name)!;
    return { [n.name]: { ansible_host: n.ip, node_role: n.role } };
  };
  const inventory = {
    all: {
      vars: {
        ansible_user: 'root',
        ansible_ssh_private_key_file: LAB_KEY,
        rigger_known_hosts_file: LAB_KNOWN_HOSTS,
        lab: true,
        timezone: 'Asia/Seoul',
        docker_source: 'distro',
        overlay_encrypted: false,
        service_endpoint_mode: 'dnsrr',
        overlay_networks: ['dmz_network', 'service_network', 'ai_network', 'data_network', 'build_network', 'monitoring'],
        backup_root: '/volume1/backup',
      },
      children: {
        managers: { hosts: host('gateway') },
        workers: {
          children: {
            ai_nodes: { hosts: host('ai') },
            data_nodes: { hosts: host('data') },
            cicd_nodes: { hosts: host('cicd') },
          },
        },
      },
    },
  };
  writeFileSync(LAB_INVENTORY, `# Written by \`npx tsx scripts/lab.ts up\`: the local lab. reset rewrites it; down removes it.\n${stringify(inventory)}`);
}
