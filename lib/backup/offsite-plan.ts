import type { ItemKind, RetentionRule } from './config.ts';
import type { SetInfo } from './listing.ts';
import type { RemoteSet } from './remote-sets.ts';
import { planRetention, type SetEntry } from './retention.ts';

export interface OffsitePlan {
  /** Local verified sets the remote keeps: copied (rclone skips what is already there). */
  copy: string[];
  /** Of those, the ones not verified on the remote yet. */
  fresh: string[];
  /** Remote sets retention removes and a newer kept set verified on the remote stands in for. */
  delete: string[];
  /** Remote sets retention would remove, kept this run: no newer kept set is verified there yet. */
  held: string[];
  /** Remote sets that are not verified there: never counted, never deleted. */
  unverified: RemoteSet[];
}

/**
 * What the off-site copy does, as a pure function of both sides. Retention
 * of the remote is the retention policy over the sets the remote will hold:
 * its own verified sets and the local verified sets this copy sends. Whether
 * a set exists locally never decides a deletion (a replaced disk or an
 * unreadable local manifest must not purge a good remote copy). A remote
 * set is deleted only when the policy drops it and a newer set the policy
 * keeps is verified on the remote now, before this run copies anything.
 * Local sets the policy drops are not sent.
 */
export function planOffsite(local: readonly SetInfo[], remote: readonly RemoteSet[], rules: Record<ItemKind, RetentionRule>): OffsitePlan {
  const onRemote = new Map(remote.filter((r) => r.verified).map((r) => [r.name, r]));
  const entries = new Map<string, SetEntry>();
  for (const r of onRemote.values()) entries.set(r.name, { name: r.name, published: true, items: r.items });
  const localVerified = local.filter((s) => s.state === 'published');
  for (const s of localVerified) {
    if (!entries.has(s.name)) entries.set(s.name, { name: s.name, published: true, items: (s.manifest?.items ?? []).map((i) => ({ name: i.name, kind: i.kind })) });
  }
  const plan = planRetention([...entries.values()], rules);
  const dropped = new Set(plan.deleteSets);
  const keptOnRemote = [...onRemote.keys()].filter((n) => !dropped.has(n));
  const newestKept = keptOnRemote.sort().at(-1);
  const remoteDropped = plan.deleteSets.filter((n) => onRemote.has(n)).sort();
  const copy = localVerified.map((s) => s.name).filter((n) => !dropped.has(n));
  return {
    copy,
    fresh: copy.filter((n) => !onRemote.has(n)),
    delete: remoteDropped.filter((n) => newestKept !== undefined && n < newestKept),
    held: remoteDropped.filter((n) => newestKept === undefined || n >= newestKept),
    unverified: remote.filter((r) => !r.verified),
  };
}
