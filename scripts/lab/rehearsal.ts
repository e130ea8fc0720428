import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from '../../lib/shell/yaml.ts';
import { interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { Scalar } from 'yaml';
import { encryptValue } from '../../lib/shell/vault.ts';
import { LAB_KEY, LAB_KNOWN_HOSTS, LAB_REMOTE, NODES, SUBNET } from './config.ts';
import { labRemoteRcloneConfig, RCLONE_IMAGE } from './remote.ts';
import { REGISTRY, refOf, serviceImageRefs } from './services.ts';
import { REAL_IN_LAB, rehearsalImageMap, STANDINS, type StandinOptions } from './standins.ts';
import { monitoringImageMap } from './monitoring-images.ts';
import { monitoringDefaults } from '../../roles/monitoring/defaults.ts';
import { OPERATOR_ALERTS } from '../../roles/monitoring/alerts.ts';
import { monitoringStack } from '../../roles/monitoring/stack.ts';
import { appSettingsEnv, appSettingsVars } from '../../roles/stacks/app-settings.ts';

export const HOMELAB_INVENTORY = 'inventory/homelab.yml';
export const REHEARSAL_INVENTORY = 'inventory/rehearsal.yml';
/** The homelab example's !vault passphrase (inventory/homelab.yml says so): the rehearsal keeps its values. */
export const HOMELAB_VAULT_PASSWORD = 'homelab-example';
/** The ai node's declared stand-in GPU (the lab has none): advertised to Swarm as the real one would be. */
export const STANDIN_GPU_UUID = 'GPU-00000000-standin-lab-0000-000000000000';
/** Where the NFS stand-in's share lives on the ai node (bind-mounted at /mnt/ai-models, as inventory/lab.yml does). */
export const NFS_STANDIN_SOURCE = '/srv/nfs-standin/ai-models';
/** Every rule's for: on the rehearsal (the operators' run from 3 to 10 minutes). */
export const REHEARSAL_RULE_FOR = '1m';

/**
 * The published ports' `from` in the rehearsal, where the real ones say 192.168.0.0/16 or one node: the
 * lab's own addresses the cluster needs (this machine .1, the registry .5, the four nodes .10-.13, whose
 * containers reach another node's port from the node's address), and no more. Narrower than the lab's /24,
 * so a lab container elsewhere on rigger-lab is outside it (test/lab/rehearsal-swarm-from.test.ts).
 */
export const REHEARSAL_PORTS_FROM = '172.30.99.0/28';

export const HOST_OF: Record<string, string> = { 'gateway.vibe.local': 'gateway', 'ai.vibe.local': 'ai', 'data.vibe.local': 'data', 'cicd.vibe.local': 'cicd' };
export const labIp = (host: string) => NODES.find((n) => n.name === HOST_OF[host])!.ip;

/**
 * inventory/rehearsal.yml: inventory/homelab.yml as it is, with only what
 * the lab cannot have overridden (each override below says why): the lab
 * nodes' addresses and key, root over SSH on 22, the kernel switches
 * (encryption off, dnsrr, host-mode ports), Debian's docker.io, the NFS
 * stand-in, a declared stand-in GPU, the lab's subnet where the real one
 * is 192.168.0.0/16, backups off-site and notified inside the lab, and the
 * image map to the stand-ins. Stacks, secrets, databases, health checks,
 * placement and resources stay the real ones.
 */
export function rehearsalInventoryText(homelabText = readFileSync(HOMELAB_INVENTORY, 'utf8'), standins: StandinOptions = {}): string {
  const doc = parseDocument(homelabText);
  // homelab.yml's header ("never connected to") is not this file's: ours replaces it.
  const top = doc.contents as { items?: { key?: { commentBefore?: string | null } }[] } | null;
  if (top?.items?.[0]?.key) top.items[0].key.commentBefore = null;
  const vars = (k: string, v: unknown) => doc.setIn(['all', 'vars', k], v);
  // Access: the lab's nodes take root with the lab key on 22 (the hardened sshd would lock the rehearsal out).
  vars('ansible_user', 'root');
  doc.deleteIn(['all', 'vars', 'ansible_port']);
  doc.deleteIn(['all', 'vars', 'sshd_port']);
  vars('ansible_ssh_private_key_file', path.relative(process.cwd(), LAB_KEY));
  vars('rigger_known_hosts_file', path.relative(process.cwd(), LAB_KNOWN_HOSTS));
  vars('sshd_permit_root_login', 'prohibit-password');
  vars('sshd_allow_users', ['root']);
  // No ufw rules at the container's kernel; no apt upgrade of the lab image (time).
  vars('firewall_backend', 'iptables');
  vars('firewall_swarm_from', SUBNET);
  vars('apt_upgrade', 'none');
  // The kernel switches (LAB.md): Debian's docker.io, no encrypted overlay traffic, no IPVS.
  vars('docker_source', 'distro');
  const daemon = doc.getIn(['all', 'vars', 'docker_daemon_config']) as { get(k: string): unknown; set(k: string, v: unknown): void };
  daemon.set('insecure-registries', [REGISTRY]);
  vars('overlay_encrypted', false);
  vars('service_endpoint_mode', 'dnsrr');
  vars('service_publish_mode', 'host');
  // No NFS in this kernel: the export is skipped and the ai node bind-mounts a directory of its own.
  vars('nfs_server_enabled', false);
  vars('nfs_mount_fstype', 'none');
  vars('nfs_mount_opts', 'bind');
  vars('nfs_mount_source', NFS_STANDIN_SOURCE);
  vars('nfs_export_clients', labIp('ai.vibe.local'));
  vars('preflight_min_free_gb', 1);
  vars('stack_images', rehearsalImageMap(standins));
  // The volume items' tar runs in a throwaway container: of an image the lab has (Debian's is not pullable here).
  vars('backup_tar_image', serviceImageRefs().postgres);
  for (const [host, node] of Object.entries(HOST_OF)) {
    const group = NODES.find((n) => n.name === node)!.group;
    const at = group === 'managers' ? ['all', 'children', 'managers', 'hosts', host] : ['all', 'children', 'workers', 'children', group, 'hosts', host];
    doc.setIn([...at, 'ansible_host'], labIp(host));
    // Published ports open to the lab's own addresses, where the real ones open to 192.168.0.0/16 or one node.
    const ports = doc.getIn([...at, 'published_ports']) as { items: { get(k: string): unknown; set(k: string, v: unknown): void }[] } | undefined;
    for (const p of ports?.items ?? []) if (p.get('from') !== undefined) p.set('from', REHEARSAL_PORTS_FROM);
  }
  const ai = ['all', 'children', 'workers', 'children', 'ai_nodes', 'hosts', 'ai.vibe.local'];
  // No GPU and no NVIDIA repository here: the toolkit steps skip, the declared stand-in GPU is advertised.
  doc.setIn([...ai, 'nvidia_gpu'], false);
  doc.setIn([...ai, 'nvidia_gpu_uuids'], [STANDIN_GPU_UUID]);
  const data = ['all', 'children', 'workers', 'children', 'data_nodes', 'hosts', 'data.vibe.local'];
  // Off-site copies and notifications stay inside the lab (the real remote is B2, the webhook and Slack chat services, the mail an SMTP server).
  doc.setIn([...data, 'monitoring_disk_mountpoints'], ['/var/lib/docker', '/volume1']);
  // The off-site remote: the lab remote (rclone serve sftp, LAB_REMOTE) where homelab.yml has B2, reached
  // by rclone over the network with its own config, vaulted as homelab.yml vaults B2's. Only these keys
  // change: anything else homelab.yml sets for the off-site copy (its crypt keys) is kept as it is.
  doc.setIn([...data, 'backup_offsite', 'remote'], `${LAB_REMOTE.name}:rigger`);
  doc.setIn([...data, 'backup_offsite', 'max_delete'], 5);
  doc.setIn([...data, 'backup_offsite', 'rclone_config'], vaulted(labRemoteRcloneConfig()));
  // The NAS runs rclone from an image (DSM has no apt); the official one is on Docker Hub, which the lab cannot
  // reach: Debian's rclone from the lab registry instead (backup_rclone_image).
  doc.setIn([...data, 'backup_rclone_image'], refOf(RCLONE_IMAGE));
  doc.deleteIn(['all', 'vars', 'backup_webhook']);
  doc.deleteIn(['all', 'vars', 'monitoring_slack']);
  doc.deleteIn(['all', 'vars', 'monitoring_email']);
  // Every rule's for: shortened (REHEARSAL_RULE_FOR), so "the longest for: has passed and nothing fires"
  // (issue 29 acceptance 2) takes a minute, not the operators' 15: set before the first converge, as the
  // rule file is written then. The expressions and thresholds stay the real ones.
  vars('monitoring_durations', Object.fromEntries(Object.keys(OPERATOR_ALERTS).map((name) => [name, REHEARSAL_RULE_FOR])));
  // A lab node's / is the outer engine's overlay file system, which node-exporter leaves out (overlay is
  // in its default --collector.filesystem.fs-types-exclude), where a real node's / is a disk: DiskSpaceLow
  // watches each lab node's Docker volume (a disk mount) instead of /, and the NAS stand-in's /volume1
  // (its own mount, as homelab.yml lists it) stays.
  vars('monitoring_disk_mountpoints', ['/var/lib/docker']);
  vars('backup_inventory', REHEARSAL_INVENTORY);
  return `# Written by \`npx tsx scripts/lab.ts rehearse\`: ${HOMELAB_INVENTORY} on the lab, with only what the lab cannot
# have overridden (scripts/lab/rehearsal.ts says why for each). Its !vault values are homelab.yml's
# (passphrase "${HOMELAB_VAULT_PASSWORD}"). Do not edit: edit homelab.yml and run rehearse again.
${doc.toString({ lineWidth: 0 })}`;
}

/** A `!vault` scalar of homelab.yml's passphrase, as the values the rehearsal keeps from it. */
function vaulted(plain: string): Scalar {
  const scalar = new Scalar(encryptValue(plain, HOMELAB_VAULT_PASSWORD));
  scalar.tag = '!vault';
  return scalar;
}

export function writeRehearsalInventory(standins: StandinOptions = {}): void {
  writeFileSync(REHEARSAL_INVENTORY, rehearsalInventoryText(undefined, standins));
}

/** A stack of the real cluster: one of homelab.yml's `stacks`, or the monitoring role's (only these services run). */
export interface RealStack {
  name: string;
  file: string;
  env: Record<string, string>;
  services?: string[];
}

/**
 * The real cluster's stacks: homelab.yml's `stacks` (the stacks role's) and,
 * when it turns monitoring on, the monitoring role's stack with the
 * inventory's monitoring_* values.
 */
export function realStacks(root = '.'): RealStack[] {
  const vars = (parseDocument(readFileSync(path.join(root, HOMELAB_INVENTORY), 'utf8')).getIn(['all', 'vars']) as { toJSON(): Record<string, unknown> }).toJSON();
  // The stacks role's ${VAR}s from the inventory's typed variables (Gitea's and n8n's names), then the stack's own env.
  const apps = appSettingsEnv(appSettingsVars.parse(Object.fromEntries(Object.entries(vars).filter(([k]) => k in appSettingsVars.shape))));
  const stacks = (vars.stacks as RealStack[]).map((s) => ({ ...s, env: { ...apps, ...s.env } }));
  // Read without the vault: the Slack URL and the SMTP password (!vault values) have no part in the stack's services.
  const monitoring = monitoringDefaults.parse(Object.fromEntries(Object.entries(vars).filter(([k]) => k.startsWith('monitoring_') && k !== 'monitoring_slack' && k !== 'monitoring_email')));
  return monitoring.monitoring_enabled ? [...stacks, monitoringStack(monitoring)] : stacks;
}

export interface RehearsedService {
  /** The swarm service: STACK_SERVICE. */
  service: string;
  image: string;
  /** The lab nodes its tasks must run on (every node for a global service). */
  nodes: string[];
  replicas: number;
  /** What the stand-in answers over HTTP: port and path, each checked from inside the task's container. */
  http: { port: number; path: string }[];
}

const ROLE_NODE: Record<string, string> = Object.fromEntries(NODES.map((n) => [n.role, n.name]));

/**
 * Every service of the real stacks (homelab.yml's `stacks`, rendered with
 * their env), with where the rehearsal expects it and what it probes; and
 * the problems that leave a service unchecked: an image with no stand-in,
 * a placement the rehearsal cannot map to a lab node.
 */
export function rehearsedServices(root = '.'): { services: RehearsedService[]; problems: string[] } {
  const services: RehearsedService[] = [];
  const problems: string[] = [];
  for (const stack of realStacks(root)) {
    const rendered = interpolate(readFileSync(path.join(root, stack.file), 'utf8'), { ...stack.env, ENDPOINT_MODE: 'dnsrr', PUBLISH_MODE: 'host' });
    const { compose } = parseCompose(rendered.text);
    if (!compose) {
      problems.push(`${stack.file} does not parse`);
      continue;
    }
    for (const [name, svc] of Object.entries(compose.services)) {
      if (stack.services && !stack.services.includes(name)) continue;
      const service = `${stack.name}_${name}`;
      const spec = STANDINS[svc.image];
      if (!spec && !(svc.image in REAL_IN_LAB) && !(svc.image in monitoringImageMap())) problems.push(`${service} (${stack.file}): image ${svc.image} has no stand-in in scripts/lab/standins.ts`);
      const global = svc.deploy?.mode === 'global';
      const constraints = svc.deploy?.placement?.constraints ?? [];
      const roles = constraints.flatMap((c) => {
        const m = /^node\.(?:labels\.role|role)\s*==\s*(\S+)$/.exec(c);
        return m ? [m[1]!] : [];
      });
      const node = roles.length === 1 ? ROLE_NODE[roles[0]!] : undefined;
      // A global service with a placement runs on the nodes it names (DCGM on the ai node), else on every node.
      const nodes = node ? [node] : global && roles.length === 0 ? NODES.map((n) => n.name) : [];
      if (!nodes.length) problems.push(`${service} (${stack.file}): placement ${JSON.stringify(constraints)} names no single lab node (node.role == manager or node.labels.role == ai|data|cicd)`);
      services.push({
        service,
        image: svc.image,
        nodes,
        replicas: global ? nodes.length : (svc.deploy?.replicas ?? 1),
        http: Object.entries(spec?.http?.paths ?? {}).flatMap(([p]) => (spec?.http?.ports ?? []).map((port) => ({ port, path: p }))),
      });
    }
  }
  return { services, problems };
}
