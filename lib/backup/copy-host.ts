/** What the default copy host needs to know of one backup host, in inventory order. */
export interface CopyHostInput {
  name: string;
  /** Its `backup_copy_to`, when the inventory sets it. */
  copyTo?: string | undefined;
  /** It has `backup_offsite` (the NAS): the other hosts' copies go there, so they reach off-site too. */
  hasOffsite: boolean;
}

/**
 * Each backup host's copy host (undefined: none, one backup host only).
 * `backup_copy_to` wins; unset, the first backup host with backup_offsite
 * for every other host, and for that host itself (or for all when no host
 * has backup_offsite) the next backup host in inventory order, a ring.
 * Pure: a function of the inventory only. A host named that is not a
 * backup host, or the host itself, is refused by {@link copyHostProblems}.
 */
export function copyHosts(hosts: readonly CopyHostInput[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const hub = hosts.find((h) => h.hasOffsite)?.name;
  hosts.forEach((h, i) => {
    if (h.copyTo !== undefined) out.set(h.name, h.copyTo);
    else if (hosts.length < 2) out.set(h.name, undefined);
    else if (hub !== undefined && hub !== h.name) out.set(h.name, hub);
    else out.set(h.name, hosts[(i + 1) % hosts.length]!.name);
  });
  return out;
}

/** backup_copy_to values that cannot work, one sentence each. */
export function copyHostProblems(hosts: readonly CopyHostInput[]): string[] {
  const names = new Set(hosts.map((h) => h.name));
  return hosts.flatMap((h) => {
    if (h.copyTo === undefined) return [];
    if (h.copyTo === h.name) return [`${h.name}: backup_copy_to names the host itself; a copy on the same disk survives nothing`];
    if (!names.has(h.copyTo)) return [`${h.name}: backup_copy_to is ${h.copyTo}, which is not a backup host (a host with backup_items)`];
    return [];
  });
}

/** Where host H's copies live on its copy host C (C's backup_root). */
export function copiesDir(copyRoot: string, host: string): string {
  return `${copyRoot.replace(/\/+$/, '')}/copies/${host}`;
}

/**
 * The copy host of `host` from the run's view of the inventory: the backup
 * hosts (those with backup_items) in inventory order, and their variables.
 */
export function copyHostFor(host: string, inventoryOrder: readonly string[], varsOf: (h: string) => Readonly<Record<string, unknown>>): string | undefined {
  const backupHosts = inventoryOrder.filter((h) => {
    const items = varsOf(h).backup_items;
    return Array.isArray(items) && items.length > 0;
  });
  const inputs = backupHosts.map((h) => {
    const v = varsOf(h);
    return { name: h, copyTo: typeof v.backup_copy_to === 'string' ? v.backup_copy_to : undefined, hasOffsite: v.backup_offsite !== undefined };
  });
  return copyHosts(inputs).get(host);
}
