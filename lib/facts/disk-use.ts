// The disks of a host as df reports them: the command and its pure parser,
// read by the daily check (lib/daily) and by deploy's pre-check
// (lib/ops/docker/deploy-precheck.ts).

/** Pseudo file systems and runtime trees that are not disks an operator fills. */
const PSEUDO = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'devtmpfs', 'mqueue', 'securityfs', 'debugfs', 'tracefs', 'pstore', 'bpf', 'configfs', 'fusectl', 'hugetlbfs', 'nsfs', 'autofs', 'binfmt_misc', 'squashfs']);
const RUNTIME = /^\/(proc|sys|dev|run)(\/|$)|^\/var\/lib\/docker\/.+|^\/etc\/(hostname|hosts|resolv\.conf)$/;

/** Every mount's "mount type use%" line, as `df` prints it (POSIX format, with types); the daily check and deploy's pre-check read the same. */
export const DF_LINES = `df -P -T 2>/dev/null | awk 'NR > 1 { print $7, $2, $6 }'`;

export interface MountUse {
  mount: string;
  type: string;
  percent: number;
}

/**
 * The real mounts among DF_LINES' lines: every file system an operator can
 * fill (/, /var/lib/docker, a backup disk, a tmpfs someone mounted), not
 * the kernel's pseudo file systems, the runtime trees, or the container
 * layers and bind-mounted files under /var/lib/docker and /etc.
 */
export function realMounts(lines: string[]): MountUse[] {
  const out: MountUse[] = [];
  for (const line of lines) {
    const [mount = '', type = '', pct = ''] = line.trim().split(/\s+/);
    if (!mount || PSEUDO.has(type) || RUNTIME.test(mount)) continue;
    const percent = Number(pct.replace('%', ''));
    if (pct === '-' || !Number.isFinite(percent)) continue;
    out.push({ mount, type, percent });
  }
  return out;
}
