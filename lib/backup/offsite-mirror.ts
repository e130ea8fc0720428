import type { ItemKind, RetentionRule } from './config.ts';
import type { SetInfo } from './listing.ts';
import { planOffsite } from './offsite-plan.ts';
import { remoteSets, type RemoteSet } from './remote-sets.ts';

/** Where copies of other hosts' sets live under a backup root (H1's layout): copies/HOST/SET. */
export const COPIES_DIR = 'copies';

/** One directory of sets under the root and its mirror on the remote: '' (the host's own sets) or copies/HOST/. */
export interface MirrorDir {
  /** '' or `copies/HOST/`. */
  prefix: string;
  /** The host whose sets these are; undefined for the root's own. */
  host?: string;
  local: SetInfo[];
  remote: RemoteSet[];
}

/** The off-site copy's plan over the whole root, every path relative to it (SET or copies/HOST/SET). */
export interface MirrorPlan {
  copy: string[];
  fresh: string[];
  delete: string[];
  held: string[];
  unverified: { name: string; problem?: string | undefined }[];
}

const HOST_DIR = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The remote's files and manifests, split by directory: its own sets at
 * the top, each copies/HOST/ as its own directory of sets, each judged by
 * what the remote holds (remote-sets.ts).
 */
export function remoteDirs(files: { Path: string; Size: number }[], manifests: Map<string, string>): Map<string, RemoteSet[]> {
  const prefixes = new Set<string>(['']);
  for (const f of files) {
    const [top, host] = f.Path.split('/');
    if (top === COPIES_DIR && host && HOST_DIR.test(host)) prefixes.add(`${COPIES_DIR}/${host}/`);
  }
  const out = new Map<string, RemoteSet[]>();
  for (const prefix of prefixes) {
    const inDir = files.filter((f) => f.Path.startsWith(prefix)).map((f) => ({ Path: f.Path.slice(prefix.length), Size: f.Size }));
    const own = new Map([...manifests].filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map(([k, v]) => [k.slice(prefix.length), v]));
    out.set(prefix, remoteSets(inDir, own));
  }
  return out;
}

/** Every directory either side holds: the root's own, and copies/HOST/ found locally or on the remote. */
export function mirrorDirs(own: SetInfo[], copies: Map<string, SetInfo[]>, remote: Map<string, RemoteSet[]>): MirrorDir[] {
  const hosts = new Set<string>([...copies.keys()]);
  for (const p of remote.keys()) if (p) hosts.add(p.slice(COPIES_DIR.length + 1, -1));
  return [
    { prefix: '', local: own, remote: remote.get('') ?? [] },
    ...[...hosts].sort().map((host) => ({ prefix: `${COPIES_DIR}/${host}/`, host, local: copies.get(host) ?? [], remote: remote.get(`${COPIES_DIR}/${host}/`) ?? [] })),
  ];
}

/**
 * The remote mirrors the root: retention per directory with planOffsite
 * (the directory's own verified sets on the remote and the verified ones
 * sent; never "absent here"), with the rules of the host whose sets they
 * are. Paths are joined with their directory.
 */
export function planMirror(dirs: MirrorDir[], rulesFor: (host: string | undefined) => Record<ItemKind, RetentionRule>): MirrorPlan {
  const out: MirrorPlan = { copy: [], fresh: [], delete: [], held: [], unverified: [] };
  for (const d of dirs) {
    const p = planOffsite(d.local, d.remote, rulesFor(d.host));
    const at = (n: string) => `${d.prefix}${n}`;
    out.copy.push(...p.copy.map(at));
    out.fresh.push(...p.fresh.map(at));
    out.delete.push(...p.delete.map(at));
    out.held.push(...p.held.map(at));
    out.unverified.push(...p.unverified.map((u) => ({ name: at(u.name), problem: u.problem })));
  }
  return out;
}
