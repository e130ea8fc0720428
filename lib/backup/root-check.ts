import { sh, type Command } from '../shell/command.ts';

/**
 * Whether a backup root is the backup disk. An unmounted disk leaves its
 * mount point: an empty directory of the file system below it (usually
 * `/`), which `[ -d ]` accepts and a set would fill. So a root that is not
 * made by rigger (backup_root_create false) must be a mount point, or hold
 * the marker file that the first set written to it leaves there: the marker
 * is on the disk, so it is gone with the disk. A root that is a directory
 * on a mounted disk (a NAS's shared folder) is marked once by hand.
 */
export const ROOT_MARKER = '.rigger-backup-root';

const MARKER_TEXT = `rigger backup root: sets are written here only while this file is here or this directory is a mount point (backup_root_create false), so the empty mount point of an unmounted disk is never filled instead.`;

/**
 * Bash (or dash) functions, reading $root: `backup_root_problem` prints why
 * no set may be written there and returns 1, or returns 0; `mark_backup_root`
 * writes the marker when it is missing (the set script calls it once the
 * root is accepted, before anything else is written).
 */
export function rootCheckFunctions(create: boolean): string {
  return String.raw`
is_mount_point() {
  if command -v mountpoint >/dev/null 2>&1; then mountpoint -q -- "$1"; return; fi
  # Without util-linux's mountpoint: a mount point's file system differs from its parent's.
  [ "$(stat -c %d -- "$1")" != "$(stat -c %d -- "$1/..")" ]
}
backup_root_problem() {
  if [ ! -d "$root" ]; then echo "backup root $root does not exist (is the backup disk mounted?)"; return 1; fi
  ${create ? 'return 0' : `[ -f "$root/${ROOT_MARKER}" ] && return 0
  is_mount_point "$root" && return 0
  echo "backup root $root is not a mount point and holds no ${ROOT_MARKER} (is the backup disk mounted? a root that is a directory on a mounted disk is marked once: touch $root/${ROOT_MARKER})"
  return 1`}
}
mark_backup_root() {
  [ -f "$root/${ROOT_MARKER}" ] || printf '%s\n' '${MARKER_TEXT}' > "$root/${ROOT_MARKER}"
}
`;
}

/**
 * On a host that receives sets written elsewhere (a copy host, a recovery's
 * destination, the off-site host fetching): the same acceptance of its
 * backup root as a set's, run before anything is created under it, so a
 * copy never makes the whole path of an unmounted disk's root on the
 * system partition (`mkdir -p` would). With `create` the root is made here
 * (backup_root_create: the root is a directory rigger owns). Prints
 * `@@root WHY` and exits 4 when refused; marks an accepted root.
 */
export function backupRootGuardCommand(root: string, create: boolean): Command {
  const script = [
    'set -eu',
    'root=$1',
    ...(create ? ['mkdir -p -- "$root"'] : []),
    rootCheckFunctions(create),
    'why=$(backup_root_problem) || { printf "@@root %s\\n" "$why"; exit 4; }',
    `mark_backup_root || { printf "@@root cannot write %s\\n" "$root/${ROOT_MARKER}"; exit 4; }`,
  ].join('\n');
  return sh`bash -c ${script} rigger-root ${root}`;
}

/** The refusal of backupRootGuardCommand's run, or undefined when the root was accepted. */
export function rootRefusal(r: { code: number; stdout: Buffer; stderr: Buffer }): string | undefined {
  if (r.code === 0) return undefined;
  return /^@@root (.*)$/m.exec(r.stdout.toString('utf8'))?.[1] ?? `the backup root check failed (exit ${r.code}): ${r.stderr.toString('utf8').trim()}`;
}

/** Whether `dir` lies under `root` (a set's or a copy's place in its backup root). */
export function isUnderRoot(root: string, dir: string): boolean {
  const r = root.replace(/\/+$/, '');
  return dir.startsWith(`${r}/`) && !dir.slice(r.length).split('/').includes('..');
}
