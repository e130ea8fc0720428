import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import { latestSet, listingCommand, parseListing, parseListingThen, type Listing, type Manifest } from '../../backup/listing.ts';
import { parseMarker, readMarkerCommand, type RecoveryMarker } from '../marker.ts';
import { copyStateCommand, parseCopyState } from '../../backup/copy-state.ts';

/** Where a recovered set came from: the host's own disk, its copy host's copies/H, or the off-site remote. */
export type SourceOrigin = 'own' | 'copy' | 'offsite';

export interface RecoverySource {
  set: string;
  origin: SourceOrigin;
  /** The host that held it: the copy host for 'copy'; the host itself for 'own'. */
  originHost?: string;
  /** Where the set's files are on the backup host: ROOT/SET, or ROOT/SET.partial while a fetched copy is unverified. */
  dir: string;
  manifest: Manifest;
  marker?: RecoveryMarker;
  fetched: boolean;
}

const setName = z.string().regex(/^(latest|\d{8}_\d{6})$/, 'a set name YYYYMMDD_HHMMSS or latest');

/** Seconds since the epoch of a set name YYYYMMDD_HHMMSS (read as UTC: only differences count). */
const stampSeconds = (n: string) => Date.UTC(+n.slice(0, 4), +n.slice(4, 6) - 1, +n.slice(6, 8), +n.slice(9, 11), +n.slice(11, 13), +n.slice(13, 15)) / 1000;

/** The set named so, else the published set nearest to that name within `within` seconds. */
export function nearestSet(listing: Listing, set: string, within: number): string | undefined {
  if (listing.sets.some((x) => x.name === set)) return set;
  const at = stampSeconds(set);
  return listing.sets
    .filter((x) => x.state === 'published' && Math.abs(stampSeconds(x.name) - at) <= within)
    .sort((a, b) => Math.abs(stampSeconds(a.name) - at) - Math.abs(stampSeconds(b.name) - at))[0]?.name;
}

/** The set a recovery would take from a root of sets, if it has one. */
export interface FoundSet {
  set?: string;
  /** Why there is none. */
  problem?: string;
}

/** Pure: `latest` (the newest published set) or the named set, nearest within `within` seconds; published sets only. */
export function chooseSet(listing: Listing, set: string, within: number): FoundSet {
  if (!listing.rootExists) return { problem: 'no such directory' };
  const name = set === 'latest' ? latestSet(listing) : nearestSet(listing, set, within);
  if (!name) return { problem: set === 'latest' ? 'no verified set' : `no set within ${within} s of ${set}` };
  const info = listing.sets.find((x) => x.name === name)!;
  if (info.state !== 'published') return { problem: `set ${name} is not a backup: ${info.problem ?? 'never published'}` };
  return { set: name };
}

/**
 * Which set a root of sets offers a recovery (the host's own root, or its
 * copies on the copy host): read-only, and never a failure, as the recovery
 * then looks at the next source (recovery-plays.ts). With `verify`, the set
 * chosen is offered only when every item's sha256 matches its manifest, so
 * a damaged set on the own disk gives way to the copy, and a damaged copy
 * to the remote: the recovery takes the newest set that verifies, in the
 * order a real loss happens. (The chosen set is read again in full by the
 * verify phase; this read costs one more pass over its bytes.)
 */
export const findSet = defineOp({
  kind: 'recovery.find-set',
  schema: z.object({ root: absolutePath, set: setName, nearSeconds: z.number().int().min(0).default(0), verify: z.boolean().default(false) }).strict(),
  describe: (p) => `${p.root}: ${p.set}`,
  readOnly: true,
  probe: (p) => ({ command: listingCommand(p.root), parse: parseListing }),
  decide: (p, listing: Listing): Decision<FoundSet> => {
    const found = chooseSet(listing, p.set, p.nearSeconds);
    if (!found.set || !p.verify) return { kind: 'ok', result: found, msg: found.set ? `set ${found.set}` : `none: ${found.problem}` };
    const set = found.set;
    return {
      kind: 'change',
      msg: `set ${set}, its checksums read`,
      apply: async (remote) => {
        const r = await remote.run(copyStateCommand(`${p.root}/${set}`, true));
        const state = parseCopyState(r, set, true);
        return state.state === 'verified' ? { set } : { problem: `set ${set} does not verify here: ${state.problem ?? state.state}` };
      },
    };
  },
});

/** The set to recover from, in the backup root: read-only. */
export const localSource = defineOp({
  kind: 'recovery.source',
  schema: z
    .object({
      root: absolutePath,
      set: setName,
      /**
       * A named set not in this root: take its published set nearest to that
       * name within this many seconds (0: the name is exact). Each backup host
       * stamps its own sets with its own clock, so one run's sets are named a
       * few seconds apart, in either order.
       */
      nearSeconds: z.number().int().min(0).default(0),
      /** Where the set in this root came from: 'copy' once pulled from the copy host (recovery-plays.ts). */
      origin: z.enum(['own', 'copy', 'offsite']).default('own'),
      originHost: z.string().optional(),
    })
    .strict(),
  describe: (p) => `${p.root}/${p.set}`,
  readOnly: true,
  probe: (p) => ({
    command: sh`${listingCommand(p.root)}; echo '@@marker'; ${readMarkerCommand(p.root)}`,
    parse: (r) => {
      const { listing, rest } = parseListingThen(r, 'marker');
      return { listing, marker: rest === undefined ? undefined : parseMarker(rest) };
    },
  }),
  decide: (p, s: { listing: Listing; marker?: RecoveryMarker | undefined }): Decision<RecoverySource> => {
    if (!s.listing.rootExists) return { kind: 'fail', reason: `backup root ${p.root} does not exist (is the backup disk mounted? for the off-site copy: --from-offsite)` };
    const name = p.set === 'latest' ? latestSet(s.listing) : (nearestSet(s.listing, p.set, p.nearSeconds) ?? p.set);
    if (!name) return { kind: 'fail', reason: `no verified set under ${p.root} (for the off-site copy: --from-offsite)` };
    const info = s.listing.sets.find((x) => x.name === name);
    if (!info) return { kind: 'fail', reason: `no set ${name} under ${p.root}` };
    if (info.state !== 'published') return { kind: 'fail', reason: `set ${name} is not a backup: ${info.problem ?? 'never published'}` };
    const result: RecoverySource = {
      set: name,
      origin: p.origin,
      ...(p.originHost ? { originHost: p.originHost } : {}),
      dir: `${p.root}/${name}`,
      manifest: info.manifest!,
      fetched: false,
      ...(s.marker ? { marker: s.marker } : {}),
    };
    const from = p.origin === 'copy' ? ` (pulled from the copy on ${p.originHost ?? 'the copy host'})` : '';
    return { kind: 'ok', result, msg: `set ${name}${from}: ${info.manifest!.items.map((i) => i.name).join(', ')}` };
  },
});

/** A fetched set that verified becomes a set of the backup root (ROOT/SET.partial -> ROOT/SET). */
export const promoteFetched = defineOp({
  kind: 'recovery.promote',
  schema: z.object({ root: absolutePath, set: z.string().regex(/^\d{8}_\d{6}$/) }).strict(),
  describe: (p) => p.set,
  decide: (p): Decision<{ dir: string }> => {
    const dir = `${p.root}/${p.set}`;
    return {
      kind: 'change',
      msg: `keep the verified copy as ${dir}`,
      // A set already at ROOT/SET is replaced, never preferred: the fetched copy is the one that verified
      // (the one there may be the damaged set that sent the recovery to the remote).
      commands: [sh`if [ -d ${dir} ]; then rm -rf -- ${`${dir}.replaced`} && mv -- ${dir} ${`${dir}.replaced`} && mv -- ${`${dir}.partial`} ${dir} && rm -rf -- ${`${dir}.replaced`}; else mv -- ${`${dir}.partial`} ${dir}; fi`],
      result: () => ({ dir }),
      checkResult: { dir },
    };
  },
});
