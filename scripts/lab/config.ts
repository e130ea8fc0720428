import { createHash } from 'node:crypto';
import path from 'node:path';

/** Everything the lab creates is named here, so `down` removes exactly that. */
export const LAB_DIR = path.resolve('.lab');
export const LAB_KEY = path.join(LAB_DIR, 'id_ed25519');
export const LAB_KNOWN_HOSTS = path.join(LAB_DIR, 'known_hosts');
export const LAB_INVENTORY = path.resolve('inventory/lab.yml');
export const DOCKERD_LOG = path.join(LAB_DIR, 'dockerd.log');

export const NETWORK = 'rigger-lab';
export const SUBNET = '172.30.99.0/24';
export const LABEL = 'rigger.lab=1';

export interface LabNode {
  name: string;
  container: string;
  ip: string;
  role: 'manager' | 'ai' | 'data' | 'cicd' | 'layout';
  group: 'managers' | 'ai_nodes' | 'data_nodes' | 'cicd_nodes' | 'layouts';
  /** Kept off overlayfs: /var/lib/docker, or /var/lib/containers on a Podman host. */
  dockerVolume: string;
  volumeMount?: string;
  /** The node image; the four Swarm nodes use IMAGE. */
  image?: string;
}

function node(name: string, ip: string, role: LabNode['role'], group: LabNode['group']): LabNode {
  return { name, container: `rigger-lab-${name}`, ip, role, group, dockerVolume: `rigger-lab-${name}-docker` };
}

export const NODES: LabNode[] = [
  node('gateway', '172.30.99.10', 'manager', 'managers'),
  node('ai', '172.30.99.11', 'ai', 'ai_nodes'),
  node('data', '172.30.99.12', 'data', 'data_nodes'),
  node('cicd', '172.30.99.13', 'cicd', 'cicd_nodes'),
];

/**
 * The data node's data volume, a mount of its own at /volume1 as DSM's data
 * volume is (the DSM stand-in keeps its Docker root on it, /volume1/@docker,
 * as Container Manager does). Unlike the backup disk inside it, it is the
 * node's own: `reset` wipes it with the node.
 */
export const DATA_VOLUME = 'rigger-lab-data-volume1';
export const DATA_MOUNT = '/volume1';
/** The data node's backup disk: survives `reset`, as a NAS's backup volume survives a rebuild. */
export const BACKUP_VOLUME = 'rigger-lab-backup';
export const BACKUP_MOUNT = '/volume1/backup';
/**
 * The other nodes' backup disks (homelab.yml's backup_root there): one volume
 * per node, kept by `reset` like the data node's, so a recovery after a reset
 * finds every node's sets. `reset --all` (of the nodes it names, else all) and `down` remove them.
 */
export const NODE_BACKUP_MOUNT = '/srv/backup';
export const nodeBackupVolume = (node: string) => `rigger-lab-backup-${node}`;
/**
 * The off-site remote's stand-in: a volume on this machine, outside every
 * node, mounted on the data node where rclone copies to it as a local path.
 * It survives `reset` and `reset --all` (as a copy off site survives the
 * loss of the NAS); `down` removes it.
 */
export const OFFSITE_VOLUME = 'rigger-lab-offsite';
export const OFFSITE_MOUNT = '/mnt/offsite';

/** Packages of the node image: a fresh Debian host with systemd and sshd, and no Docker. */
export const BASE_PACKAGES = ['systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'python3', 'sudo', 'ca-certificates', 'gnupg', 'curl', 'procps', 'cron'];

/**
 * Debian's ssh.service runs `sshd -t` first, which fails without host keys;
 * the image has none (each node must get its own), so they are generated
 * just before that check, at every boot, with no race.
 */
export const SSH_KEYGEN_DROPIN = `[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
`;

/** A node image: a Debian suite debootstrapped with BASE_PACKAGES, tagged by its recipe's hash. */
export interface BaseImage {
  suite: 'bookworm' | 'trixie';
  tag: string;
}

function baseImage(name: string, suite: BaseImage['suite'], v: number): BaseImage {
  const recipe = JSON.stringify({ BASE_PACKAGES, SSH_KEYGEN_DROPIN, suite, v });
  // The image tag changes whenever its recipe does, so a stale cached image is never reused.
  return { suite, tag: `${name}:${createHash('sha256').update(recipe).digest('hex').slice(0, 12)}` };
}

export const BOOKWORM = baseImage('rigger-lab-base', 'bookworm', 3);
export const IMAGE = BOOKWORM.tag;
/** The layouts' hosts (`up --layouts`): trixie has Podman with Quadlet, Compose v2 and Caddy (LAB.md). */
export const TRIXIE = baseImage('rigger-lab-trixie', 'trixie', 1);

/** What a node container needs so that the Docker engine the docker role installs can run inside it (LAB.md). */
export const NODE_RUN_OPTIONS = [
  '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE',
  '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--security-opt', 'systempaths=unconfined',
  '--device-cgroup-rule', 'a *:* rwm',
  '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw',
  '--tmpfs', '/run', '--tmpfs', '/run/lock',
  '-e', 'container=docker',
];

/**
 * The layouts' hosts (`up --layouts`), trixie like the hosts those layouts
 * run on: Core and Edge of the Compose layout, and the Podman single server.
 */
export const LAYOUT_NODES: LabNode[] = [
  { ...node('core', '172.30.99.20', 'layout', 'layouts'), image: TRIXIE.tag },
  { ...node('edge', '172.30.99.21', 'layout', 'layouts'), image: TRIXIE.tag },
  { ...node('single', '172.30.99.22', 'layout', 'layouts'), image: TRIXIE.tag, dockerVolume: 'rigger-lab-single-containers', volumeMount: '/var/lib/containers' },
];
export const LAYOUTS_KNOWN_HOSTS = path.join(LAB_DIR, 'known_hosts.layouts');

/**
 * The lab remote: the stand-in for the operators' cloud remote (B2 in
 * homelab.yml), a container on the lab network outside the four nodes running
 * Debian's `rclone serve sftp`, so the off-site copy talks to a real remote
 * over the network as it does to B2. Its data volume is the cloud: `reset`
 * and `reset --all` keep it, `down` removes it. Not .20: `up --layouts`
 * gives that address to `core`; .30 is outside the layouts' .20-.22 and
 * outside the rehearsal's published-ports /28, which it never needs.
 */
export const LAB_REMOTE = {
  container: 'rigger-lab-remote',
  ip: '172.30.99.30',
  /** rclone serve sftp's own default port. */
  port: 2022,
  volume: 'rigger-lab-remote-data',
  /** The directory it serves: `lab-offsite:rigger` is /data/rigger in the volume. */
  root: '/data',
  user: 'rigger',
  /**
   * A fixed password: the remote answers only on the lab's private bridge, as
   * the lab registry does without any login; fixed, the rehearsal inventory
   * (written at any time) always matches the running remote.
   */
  password: 'rigger-lab-offsite',
  /** The rclone remote's name in the rehearsal inventory's rclone_config. */
  name: 'lab-offsite',
} as const;
