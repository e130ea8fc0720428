import { sh, type Command } from '../../lib/shell/command.ts';
import { transportFor } from '../../lib/cli/connection.ts';
import { plainVars } from '../../lib/runner/host-vars.ts';
import { loadInventories, vaultPassphraseFor } from '../../lib/inventory/load.ts';
import type { Transport } from '../../lib/transport/types.ts';

/** Direct access to a lab node, for checking state on the node itself (not through the op under test). */
export async function nodeTransport(inventory: string, host: string): Promise<Transport> {
  const inv = await loadInventories([inventory], { vaultPassphrase: vaultPassphraseFor([inventory]) });
  return transportFor(host, plainVars(inv.varsFor(host)), { hostKeyMode: 'strict' });
}

export async function onNode(inventory: string, host: string, command: Command): Promise<{ stdout: string; stderr: string; code: number }> {
  const t = await nodeTransport(inventory, host);
  try {
    const r = await t.exec(command);
    return { stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), code: r.code };
  } finally {
    await t.close();
  }
}

/**
 * A hash of everything the core ops can touch on a node: files under the
 * usual trees (path, type, mode, owner, size, mtime, link target), installed
 * packages, mounts and fstab, unit files and the state of units rigger may
 * manage, users and groups, cron.d, the sysctls the tests set, firewall
 * rules (without packet counters, which our own SSH traffic moves). Check
 * mode must leave it unchanged.
 */
export const STATE_HASH = sh`{
  find /etc /opt /srv /usr/local /root /var/spool/cron /volume1 /mnt -xdev -printf '%p %y %m %u %g %s %T@ %l\n' 2>/dev/null | sort
  dpkg-query -W -f '\${Package} \${Version} \${db:Status-Abbrev}\n' 2>/dev/null
  cat /etc/fstab; findmnt -rn -o TARGET,SOURCE,FSTYPE,OPTIONS | sort
  systemctl list-unit-files --no-legend 2>/dev/null | sort
  for u in $(ls /etc/systemd/system | grep -E '\.(service|timer|mount)$'); do echo "$u $(systemctl is-active "$u") $(systemctl is-enabled "$u" 2>/dev/null)"; done
  systemctl is-active ssh cron docker 2>/dev/null
  getent passwd; getent group
  sysctl net.ipv4.ip_forward net.ipv4.tcp_syncookies net.core.somaxconn 2>/dev/null
  iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
  ufw status verbose 2>/dev/null
} | sha256sum | cut -c1-64`;

export async function stateHash(inventory: string, host: string): Promise<string> {
  const r = await onNode(inventory, host, STATE_HASH);
  if (r.code !== 0 || r.stdout.trim().length !== 64) throw new Error(`state hash failed on ${host}: ${r.stderr}`);
  return r.stdout.trim();
}
