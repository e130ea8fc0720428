import { z } from '../shell/zod.ts';
import type { ItemKind } from './config.ts';
import { manifestSchema } from './listing.ts';
import { SET_NAME } from './retention.ts';

/** A set directory on the off-site remote, judged by what the remote itself holds. */
export interface RemoteSet {
  name: string;
  /**
   * Its manifest is there, readable and names this set, and every file it
   * lists is there with the size it records. The copy sends each manifest
   * after its files, so an interrupted copy leaves a set that is not.
   */
  verified: boolean;
  /** Why it is not verified. */
  problem?: string;
  items: { name: string; kind: ItemKind }[];
}

/** One entry of `rclone lsjson -R --files-only`: only what the verdict needs. */
const lsjsonEntry = z.object({ Path: z.string(), Size: z.number() }).loose();
export const lsjsonOutput = z.array(lsjsonEntry);

/**
 * The remote's sets from its file listing and the manifests found on it
 * (set directory -> manifest text). Pure: the off-site op reads both with
 * rclone in its probe.
 */
export function remoteSets(files: { Path: string; Size: number }[], manifests: Map<string, string>): RemoteSet[] {
  const sizes = new Map(files.map((f) => [f.Path, f.Size]));
  const names = new Set(files.map((f) => f.Path.split('/')[0]!).filter((n) => SET_NAME.test(n)));
  return [...names].sort().map((name): RemoteSet => {
    const text = manifests.get(name);
    if (text === undefined) return { name, verified: false, problem: 'no manifest.json, a copy that did not finish', items: [] };
    let m;
    try {
      m = manifestSchema.parse(JSON.parse(text));
    } catch (err) {
      return { name, verified: false, problem: `manifest.json unreadable: ${(err as Error).message.split('\n')[0]}`, items: [] };
    }
    if (m.set !== name) return { name, verified: false, problem: `manifest names set ${m.set}`, items: [] };
    const items = m.items.map((i) => ({ name: i.name, kind: i.kind }));
    for (const i of m.items) {
      const size = sizes.get(`${name}/${i.file}`);
      if (size === undefined) return { name, verified: false, problem: `${i.file} is missing`, items };
      if (size !== i.bytes) return { name, verified: false, problem: `${i.file} is ${size} bytes, the manifest says ${i.bytes}`, items };
    }
    return { name, verified: true, items };
  });
}
