import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAB_VAULT_PASSWORD_FILE } from '../../lib/inventory/load.ts';
import { BACKUP_MOUNT, OFFSITE_MOUNT, LAB_DIR, LAB_INVENTORY, LAB_KEY, LAB_KNOWN_HOSTS, NODES } from './config.ts';
import { REGISTRY, serviceImageRefs } from './services.ts';
import { monitoringImageMap } from './monitoring-images.ts';
import { vault, yamlWithVault } from './vault-yaml.ts';

/** A random value kept in .lab/ across resets (the lab's vault passphrase, its database password). */
export function labValue(file: string): string {
  const p = path.resolve(file);
  if (!existsSync(p)) {
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
  }
  return readFileSync(p, 'utf8').trim();
}

export const LAB_POSTGRES_PASSWORD_FILE = path.join(LAB_DIR, 'postgres-password');

/**
 * The data node's backups: the lab database, the files volume, Docker's
 * configuration; off-site to the stand-in volume (OFFSITE_MOUNT). The
 * volume tar runs in the lab's postgres image (Debian, with tar): the lab
 * cannot pull debian:bookworm-slim from Docker Hub.
 */
function labBackupVars(tarImage: string): Record<string, unknown> {
  return {
    backup_items: [
      { kind: 'postgres', service: 'lab_postgres', database: 'vibedb', user: 'postgres', password: vault(labValue(LAB_POSTGRES_PASSWORD_FILE)) },
      { kind: 'volume', volume: 'lab_files_data' },
      { kind: 'config', name: 'docker', paths: ['/etc/docker', '/etc/ssh/sshd_config'] },
    ],
    backup_tar_image: tarImage,
    backup_min_free_mb: 20,
    backup_offsite: { remote: `${OFFSITE_MOUNT}/rigger`, max_delete: 5 },
    backup_scheduler: 'data',
  };
}

/** The lab's alert receiver: a container the monitoring suite runs on the monitoring network. */
export const LAB_ALERT_WEBHOOK = 'http://rigger-alert-hook:9099/alerts';
/** A small file system the monitoring suite mounts on a node and fills (DiskSpaceLow). */
export const LAB_DISK_MOUNT = '/srv/lab-disk';

/**
 * Monitoring in the lab: the Debian-built images for the real ones, the
 * services Debian does not package left out, the data node's database,
 * and durations shortened by variables (never by editing rules), so an
 * alert fires within seconds. On, as on the real cluster: every site run
 * on the lab deploys the monitoring stack.
 */
function labMonitoringVars(): Record<string, unknown> {
  return {
    monitoring_enabled: true,
    stack_images: monitoringImageMap(),
    monitoring_skip_services: ['loki', 'promtail', 'grafana', 'cadvisor', 'dcgm-exporter'],
    monitoring_postgres: { host: 'lab_postgres', database: 'vibedb', user: 'postgres', password_secret: 'lab_postgres_password' },
    monitoring_external_labels: { cluster: 'rigger-lab', environment: 'lab' },
    monitoring_scrape_interval: '5s',
    monitoring_evaluation_interval: '5s',
    monitoring_rule_interval: '5s',
    monitoring_durations: { ContainerDown: '15s', ServiceDown: '15s', DiskSpaceLow: '15s' },
    monitoring_disk_mountpoints: [LAB_DISK_MOUNT],
    monitoring_webhook_urls: [LAB_ALERT_WEBHOOK],
    monitoring_group_wait: '1s',
    monitoring_group_interval: '5s',
    monitoring_repeat_interval: '1h',
  };
}

/**
 * inventory/lab.yml in Ansible's format: the nodes' addresses, the lab key,
 * the pinned host keys, and the lab's variables where it differs from a
 * real cluster (LAB.md): Debian's docker.io, overlay encryption off (its
 * traffic does not flow on this kernel), dnsrr endpoints and host-mode
 * ports (no IPVS), a bind mount where NFS would be (no NFS in this kernel),
 * the lab registry, and the lab's stack.
 */
export function writeLabInventory(): void {
  const host = (name: string, extra: Record<string, unknown> = {}) => {
    const n = NODES.find((x) => x.name === name)!;
    return { [n.name]: { ansible_host: n.ip, node_role: n.role, ...extra } };
  };
  const images = serviceImageRefs();
  const inventory = {
    all: {
      vars: {
        ansible_user: 'root',
        ansible_ssh_private_key_file: LAB_KEY,
        rigger_known_hosts_file: LAB_KNOWN_HOSTS,
        lab: true,
        timezone: 'Asia/Seoul',
        sshd_permit_root_login: 'prohibit-password',
        sshd_allow_users: ['root'],
        firewall_backend: 'iptables',
        docker_source: 'distro',
        docker_daemon_config: { 'insecure-registries': [REGISTRY], 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m' } },
        overlay_encrypted: false,
        service_endpoint_mode: 'dnsrr',
        service_publish_mode: 'host',
        overlay_networks: ['dmz_network', 'service_network', 'ai_network', 'data_network', 'build_network', 'monitoring'],
        nfs_server_enabled: false,
        nfs_mount_fstype: 'none',
        nfs_mount_opts: 'bind',
        nfs_mount_source: '/srv/nfs-standin/ai-models',
        stacks: [{ name: 'lab', file: 'stacks/lab.yml', env: { WEB_IMAGE: images.web, POSTGRES_IMAGE: images.postgres } }],
        stack_secrets: { lab_postgres_password: vault(labValue(LAB_POSTGRES_PASSWORD_FILE)) },
        health_checks: [{ service: 'lab_web', port: 8080, path: '/health' }],
        preflight_min_free_gb: 1,
        backup_root: BACKUP_MOUNT,
        ...labMonitoringVars(),
      },
      children: {
        managers: { hosts: host('gateway') },
        workers: {
          children: {
            ai_nodes: { hosts: host('ai', { model_dir: '/mnt/ai-models' }) },
            data_nodes: { hosts: host('data', labBackupVars(images.postgres!)) },
            cicd_nodes: { hosts: host('cicd') },
          },
        },
      },
    },
  };
  writeFileSync(LAB_INVENTORY, `# Written by \`npx tsx scripts/lab.ts up\`: the local lab. reset rewrites it; down removes it.\n# Its !vault values use the passphrase in ${LAB_VAULT_PASSWORD_FILE} (used only with this inventory).\n${yamlWithVault(inventory, labValue(LAB_VAULT_PASSWORD_FILE))}`);
}
