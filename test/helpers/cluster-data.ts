import { raw, sh } from '../../lib/shell/command.ts';
import { backupVars, type BackupVars } from '../../lib/backup/config.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { COUNT_ROWS_SQL, parseCounts } from '../../lib/recovery/restore-script.ts';
import { onNode } from './node.ts';

/**
 * What a recovery must bring back, read on the lab nodes themselves (not
 * through the playbooks under test): the sha256 of every file of every
 * backed-up volume and configuration path, and the row counts of every
 * dumped database. Taken before the backup and again after the recovery,
 * the two must be equal.
 */
export interface ClusterData {
  /** "node volume-or-path file" -> sha256 */
  files: Record<string, string>;
  /** "database schema.table" -> rows */
  rows: Record<string, number>;
}

/** Each inventory host's backup variables, as the backup playbook parses them. */
export async function backupVarsOf(inventory: string, passphrase: string): Promise<Map<string, BackupVars>> {
  const inv = await loadInventories([inventory], { vaultPassphrase: () => passphrase });
  const out = new Map<string, BackupVars>();
  for (const h of inv.hostNames()) {
    const v = backupVars.parse(Object.fromEntries([...inv.varsFor(h)].map(([k, x]) => [k, x.value])));
    if (v.backup_items.length) out.set(h, v);
  }
  return out;
}

// `sha256sum` lines (hash, two spaces, path) for regular files under the current directory or the given paths.
const SUMS = `find "$@" -type f -print0 2>/dev/null | sort -z | xargs -0r sha256sum`;

function parseSums(prefix: string, text: string, into: Record<string, string>): void {
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (m) into[`${prefix} ${m[2]}`] = m[1]!;
  }
}

export async function clusterData(labInventory: string, hosts: Map<string, BackupVars>, nodeOf: (host: string) => string, pgNode: string): Promise<ClusterData> {
  const files: Record<string, string> = {};
  const rows: Record<string, number> = {};
  for (const [host, v] of hosts) {
    const node = nodeOf(host);
    for (const item of v.backup_items) {
      if (item.kind === 'volume' || (item.kind === 'gitea' && item.volume)) {
        const r = await onNode(labInventory, node, sh`set -e; cd "$(docker volume inspect -f '{{.Mountpoint}}' ${item.volume!})"; set -- .; ${raw(SUMS)}`);
        parseSums(`${node} ${item.volume}`, r.stdout, files);
      } else if (item.kind === 'config') {
        const r = await onNode(labInventory, node, sh`set -- ${[...item.paths, ...item.paths_if_present]}; ${raw(SUMS)}`);
        parseSums(`${node} config`, r.stdout, files);
      } else if (item.kind === 'postgres') {
        const r = await onNode(
          labInventory,
          pgNode,
          sh`docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=${item.service}) psql -X -At -U ${item.user} -d ${item.database} -c ${COUNT_ROWS_SQL}`,
        );
        for (const [t, n] of Object.entries(parseCounts(r.stdout))) rows[`${item.database} ${t}`] = n;
      }
    }
  }
  return { files, rows };
}
