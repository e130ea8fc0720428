import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { $ } from 'zx';
import { BACKUP_MOUNT, BACKUP_VOLUME, DATA_MOUNT, DATA_VOLUME, NODE_BACKUP_MOUNT, nodeBackupVolume, OFFSITE_MOUNT, OFFSITE_VOLUME, IMAGE, LAB_DIR, LAB_KEY, LAB_KNOWN_HOSTS, LABEL, NETWORK, NODE_RUN_OPTIONS, NODES, SUBNET, type LabNode } from './config.ts';

$.verbose = false;

export async function containerState(n: LabNode): Promise<'running' | 'stopped' | 'absent'> {
  const r = await $`docker inspect -f '{{.State.Running}}' ${n.container}`.nothrow().quiet();
  if (r.exitCode !== 0) return 'absent';
  return r.stdout.trim() === 'true' ? 'running' : 'stopped';
}

export async function ensureNetwork(): Promise<void> {
  if ((await $`docker network inspect ${NETWORK}`.nothrow().quiet()).exitCode === 0) return;
  await $`docker network create --label ${LABEL} --subnet ${SUBNET} ${NETWORK}`;
}

export async function ensureKey(): Promise<void> {
  mkdirSync(LAB_DIR, { recursive: true, mode: 0o700 });
  if (!existsSync(LAB_KEY)) await $`ssh-keygen -q -t ed25519 -N '' -C rigger-lab -f ${LAB_KEY}`;
}

export async function createNode(n: LabNode): Promise<void> {
  const volumes = ['-v', `${n.dockerVolume}:${n.volumeMount ?? '/var/lib/docker'}`];
  // The backup disk is mounted inside the data volume (/volume1/backup in /volume1): Docker mounts the outer first.
  if (n.role === 'data') volumes.push('-v', `${DATA_VOLUME}:${DATA_MOUNT}`, '-v', `${BACKUP_VOLUME}:${BACKUP_MOUNT}`, '-v', `${OFFSITE_VOLUME}:${OFFSITE_MOUNT}`);
  // The cluster's other nodes keep their own backup sets; the layouts' hosts have none.
  else if (n.role !== 'layout') volumes.push('-v', `${nodeBackupVolume(n.name)}:${NODE_BACKUP_MOUNT}`);
  // systemd derives an empty machine-id from container_uuid, else from the
  // VM's DMI uuid, which all nodes share: each node gets its own.
  const identity = ['-e', `container_uuid=${randomUUID()}`];
  await $`docker run -d --name ${n.container} --hostname ${n.name} --label ${LABEL} --network ${NETWORK} --ip ${n.ip} ${NODE_RUN_OPTIONS} ${identity} ${volumes} ${n.image ?? IMAGE} /sbin/init`;
}

/** A script run by sh inside a node's container, as root (not over SSH: it may restart sshd). */
export async function exec(n: LabNode, script: string) {
  return $`docker exec ${n.container} sh -c ${script}`.nothrow().quiet();
}

/** Prints sshd's unit state: Debian's unit is ssh, the DSM stand-in's sshd (as DSM's). */
const SSHD_ACTIVE = 'if systemctl is-active --quiet ssh; then echo active; else systemctl is-active sshd; fi';

/** Waits for the state a test needs (systemd booted, sshd active), never a fixed sleep. */
export async function waitReady(n: LabNode, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await exec(n, `systemctl is-system-running 2>/dev/null; ${SSHD_ACTIVE}`);
    const [system, ssh] = r.stdout.trim().split('\n');
    if ((system === 'running' || system === 'degraded') && ssh === 'active') return;
    if (Date.now() > deadline) throw new Error(`${n.name}: not ready after ${timeoutMs / 1000} s (system ${system}, ssh ${ssh})`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Installs the lab's key and returns the node's own ed25519 host key line for known_hosts. */
export async function authorize(n: LabNode): Promise<string> {
  const pub = readFileSync(`${LAB_KEY}.pub`, 'utf8').trim();
  const r = await exec(n, `mkdir -p -m 700 /root/.ssh && printf '%s\\n' '${pub}' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && cat /etc/ssh/ssh_host_ed25519_key.pub`);
  if (r.exitCode !== 0) throw new Error(`${n.name}: cannot install the lab key: ${r.stderr}`);
  const [type, key] = r.stdout.trim().split(/\s+/);
  return `${n.ip} ${type} ${key}`;
}

export function writeKnownHosts(lines: string[], file = LAB_KNOWN_HOSTS): void {
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
}

export async function removeNode(n: LabNode): Promise<void> {
  await $`docker rm -f -v ${n.container}`.nothrow().quiet();
  await $`docker volume rm -f ${n.dockerVolume}`.nothrow().quiet();
  if (n.role === 'data') await $`docker volume rm -f ${DATA_VOLUME}`.nothrow().quiet();
}

export async function nodeStatus(n: LabNode): Promise<Record<string, string>> {
  const state = await containerState(n);
  const row: Record<string, string> = { node: n.name, address: n.ip, container: state, systemd: '-', sshd: '-', ssh: '-', docker: '-' };
  if (state !== 'running') return row;
  const r = await exec(n, `systemctl is-system-running; ${SSHD_ACTIVE}; (docker version --format "{{.Server.Version}}" 2>/dev/null || echo none)`);
  const [systemd, sshd, docker] = r.stdout.trim().split('\n');
  Object.assign(row, { systemd: systemd ?? '?', sshd: sshd ?? '?', docker: docker ?? 'none' });
  const ssh = await $`ssh -i ${LAB_KEY} -o BatchMode=yes -o ConnectTimeout=5 -o UserKnownHostsFile=${LAB_KNOWN_HOSTS} -o StrictHostKeyChecking=yes root@${n.ip} true`.nothrow().quiet();
  row.ssh = ssh.exitCode === 0 ? 'ok' : 'refused';
  return row;
}

export { NODES };
