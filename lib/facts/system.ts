import { sh } from '../shell/command.ts';
import { defineFact, type Fact } from '../model/fact.ts';

export interface OsRelease {
  id: string;
  versionId: string;
  codename: string;
  prettyName: string;
  idLike: string[];
}

export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return {
    id: kv.get('ID') ?? 'unknown',
    versionId: kv.get('VERSION_ID') ?? '',
    codename: kv.get('VERSION_CODENAME') ?? '',
    prettyName: kv.get('PRETTY_NAME') ?? '',
    idLike: (kv.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean),
  };
}

export const osRelease = defineFact('os release', sh`cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release`, (r) => parseOsRelease(r.stdout.toString('utf8')));

export interface Arch {
  /** uname -m: x86_64, aarch64 */
  machine: string;
  /** Debian's name: amd64, arm64 (empty where dpkg is missing) */
  debian: string;
}

export const arch = defineFact('arch', sh`uname -m; dpkg --print-architecture 2>/dev/null || true`, (r) => {
  const [machine = '', debian = ''] = r.stdout.toString().trim().split('\n');
  return { machine, debian } satisfies Arch;
});

/** systemd, or what PID 1 is otherwise (the schedule and service ops need systemd). */
export const initSystem = defineFact('init system', sh`if [ -d /run/systemd/system ]; then echo systemd; else cat /proc/1/comm; fi`, (r) => r.stdout.toString().trim());

export interface DiskSpace {
  path: string;
  availableBytes: number;
  sizeBytes: number;
}

export function parseDf(path: string, text: string): DiskSpace {
  const line = text.trim().split('\n').at(-1)!.trim().split(/\s+/);
  return { path, availableBytes: Number(line[0]), sizeBytes: Number(line[1]) };
}

const diskFacts = new Map<string, Fact<DiskSpace>>();
/** Free space of the file system holding a path. */
export function freeDisk(path: string): Fact<DiskSpace> {
  let f = diskFacts.get(path);
  if (!f) {
    f = defineFact(`free disk ${path}`, sh`df -B1 --output=avail,size -- ${path}`, (r) => parseDf(path, r.stdout.toString()));
    diskFacts.set(path, f);
  }
  return f;
}

export interface MountInfo {
  target: string;
  source: string;
  fstype: string;
  options: string;
}

export function parseFindmnt(text: string): MountInfo[] {
  const json = JSON.parse(text || '{"filesystems":[]}') as { filesystems: MountInfo[] };
  return json.filesystems.map((f) => ({ target: f.target, source: f.source, fstype: f.fstype, options: f.options }));
}

export const mounts = defineFact('mounts', sh`findmnt -J -l -o TARGET,SOURCE,FSTYPE,OPTIONS`, (r) => parseFindmnt(r.stdout.toString()));
