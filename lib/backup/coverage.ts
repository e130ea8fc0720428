import type { Compose } from '../ops/docker/compose.ts';
import type { BackupVars } from './config.ts';

/**
 * Which mounts of a stack hold state, and whether the backup items of the
 * host they live on cover each: the guard that a stack file gaining a
 * volume cannot silently leave it out of the nightly set. Pure: the caller
 * parses the stack files and says which hosts run each service.
 */
export interface StackMount {
  /** STACK_SERVICE. */
  service: string;
  /** The hosts its tasks run on (every host for a global service). */
  hosts: string[];
  /** The volume's name on the host (STACK_NAME, as `docker stack deploy` names it), or the bind mount's source. */
  volume?: string;
  path?: string;
  readOnly: boolean;
}

type Mount = { source: string; readOnly: boolean };

function parseMount(m: string | Record<string, unknown>): Mount | undefined {
  if (typeof m === 'string') {
    const parts = m.split(':');
    if (parts.length < 2) return undefined; // an anonymous volume: gone with the task, nothing to keep
    return { source: parts[0]!, readOnly: (parts[2] ?? '').split(',').includes('ro') };
  }
  if (typeof m.source !== 'string' || m.type === 'tmpfs') return undefined;
  return { source: m.source, readOnly: m.read_only === true };
}

/** Every named volume and bind mount of a stack's services. */
export function stackMounts(stack: string, compose: Compose, hostsOf: (service: string) => string[]): StackMount[] {
  const named = new Set(Object.keys(compose.volumes ?? {}));
  const out: StackMount[] = [];
  for (const [name, svc] of Object.entries(compose.services)) {
    const service = `${stack}_${name}`;
    for (const raw of svc.volumes ?? []) {
      const m = parseMount(raw as string | Record<string, unknown>);
      if (!m) continue;
      const base = { service, hosts: hostsOf(service), readOnly: m.readOnly };
      if (m.source.startsWith('/')) out.push({ ...base, path: m.source });
      else if (named.has(m.source)) out.push({ ...base, volume: `${stack}_${m.source}` });
    }
  }
  return out;
}

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir.replace(/\/+$/, '')}/`);

/** Why a mount is covered on a host, or undefined when it is not. */
export function coverOf(m: StackMount, v: Pick<BackupVars, 'backup_items' | 'backup_not_needed'>): string | undefined {
  if (m.readOnly) return 'mounted read-only: the service writes nothing there';
  for (const n of v.backup_not_needed) {
    if ('volume' in n && n.volume === m.volume) return `not needed: ${n.reason}`;
    if ('path' in n && m.path !== undefined && under(m.path, n.path)) return `not needed: ${n.reason}`;
  }
  for (const i of v.backup_items) {
    if (m.volume !== undefined && (i.kind === 'volume' || i.kind === 'gitea') && i.volume === m.volume) return `${i.kind} item`;
    // A database's data directory comes back from its dump, not from a copy of live files.
    if (m.volume !== undefined && i.kind === 'postgres' && i.service === m.service) return `dumped (${i.database})`;
    if (m.path !== undefined && i.kind === 'config' && [...i.paths, ...i.paths_if_present].some((p) => under(m.path!, p))) return `config item ${i.name}`;
  }
  return undefined;
}

/** One line per mount that some host it runs on does not cover. */
export function uncoveredMounts(mounts: StackMount[], varsOf: (host: string) => Pick<BackupVars, 'backup_items' | 'backup_not_needed'>): string[] {
  return mounts.flatMap((m) =>
    m.hosts.filter((h) => coverOf(m, varsOf(h)) === undefined).map((h) => `${m.service}: ${m.volume ? `volume ${m.volume}` : `bind mount ${m.path}`} on ${h} is in no backup item (add one, or list it in backup_not_needed with the reason)`),
  );
}
