/**
 * The backup hosts whose sets reach no remote: neither the host itself
 * nor its copy host (copy-host.ts) has backup_offsite, so its sets live on
 * the cluster's disks only. The off-site copy uploads the copy host's own
 * sets and every copies/HOST it holds, so a copy host with a remote
 * carries its hosts' sets off site.
 */
export function hostsNotOffsite(hosts: readonly string[], hasOffsite: (h: string) => boolean, copyHostOf: (h: string) => string | undefined): string[] {
  return hosts.filter((h) => {
    if (hasOffsite(h)) return false;
    const c = copyHostOf(h);
    return c === undefined || !hasOffsite(c);
  });
}

/** The off-site report's closing line. */
export function offsiteReachLine(notOffsite: readonly string[]): string {
  return notOffsite.length
    ? `not off-site: ${notOffsite.join(', ')} (its sets reach no host with backup_offsite: give its copy host a remote, or backup_copy_to a host that has one)`
    : "every backup host's sets reach the remote (its own, or as copies on its copy host)";
}
