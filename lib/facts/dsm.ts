import { sh } from '../shell/command.ts';
import { defineFact } from '../model/fact.ts';

/** Synology DSM, told apart by its version file (DSM has no /etc/os-release's Debian family and no apt). */
export interface DsmInfo {
  present: boolean;
  /** productversion: 7.2 */
  version?: string;
  build?: string;
}

/** /etc.defaults/VERSION's KEY="value" lines; empty text: not DSM. */
export function parseDsmVersion(text: string): DsmInfo {
  const kv = Object.fromEntries([...text.matchAll(/^(\w+)="([^"]*)"$/gm)].map((m) => [m[1]!, m[2]!]));
  if (!kv.productversion && !kv.majorversion) return { present: false };
  const version = kv.productversion ?? `${kv.majorversion}.${kv.minorversion ?? '0'}`;
  return { present: true, version, ...(kv.buildnumber ? { build: kv.buildnumber } : {}) };
}

export const dsm = defineFact('dsm', sh`cat /etc.defaults/VERSION 2>/dev/null || true`, (r) => parseDsmVersion(r.stdout.toString('utf8')));

/** What must be set in DSM by hand, as the host shows it: the NFS service running and the share exported. */
export interface DsmSide {
  share: boolean;
  exported: boolean;
  nfsd: boolean;
}

export function parseDsmSide(text: string): DsmSide {
  const lines = text.split('\n');
  return { share: lines.includes('share'), exported: lines.includes('exported'), nfsd: lines.includes('nfsd') };
}

// Facts are cached by identity: one per share path.
const sides = new Map<string, ReturnType<typeof defineFact<DsmSide>>>();
export const dsmSide = (share: string) => {
  if (!sides.has(share))
    sides.set(
      share,
      defineFact(
        `dsm side ${share}`,
        sh`[ -d ${share} ] && echo share; awk '{ print $1 }' /etc/exports 2>/dev/null | tr -d '"' | grep -qxF -- ${share} && echo exported; t=$(cat /proc/fs/nfsd/threads 2>/dev/null) && [ "\${t:-0}" != 0 ] && echo nfsd; true`,
        (r) => parseDsmSide(r.stdout.toString('utf8')),
      ),
    );
  return sides.get(share)!;
};
