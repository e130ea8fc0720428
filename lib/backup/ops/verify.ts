import { z } from '../../shell/zod.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import { latestSet, listingCommand, parseListing, type Listing } from '../listing.ts';
import { verifyItems, type ItemVerdict } from '../verify-script.ts';

export interface SetVerdict {
  set: string;
  ok: boolean;
  items: ItemVerdict[];
  /** Why the set as a whole is not good (no manifest, unreadable manifest). */
  problem?: string;
}

/**
 * Re-checks one set (a name or `latest`): manifest, checksums and a full
 * read of every artefact. Read-only; the task fails when anything is bad.
 */
export const verifySet = defineOp({
  kind: 'backup.verify',
  schema: z.object({ root: absolutePath, set: z.string().regex(/^(latest|\d{8}_\d{6})$/, 'a set name YYYYMMDD_HHMMSS or latest') }).strict(),
  describe: (p) => `${p.root}/${p.set}`,
  readOnly: true,
  probe: (p) => ({ command: listingCommand(p.root), parse: parseListing }),
  decide: (p, listing: Listing): Decision<SetVerdict> => {
    const name = p.set === 'latest' ? latestSet(listing) : p.set;
    if (!name) return { kind: 'fail', reason: `no published set under ${p.root}` };
    const info = listing.sets.find((s) => s.name === name);
    if (!info) return { kind: 'fail', reason: `no set ${name} under ${p.root}` };
    if (info.state !== 'published') {
      const result: SetVerdict = { set: name, ok: false, items: [], problem: info.problem ?? 'never published (a partial set)' };
      return { kind: 'ok', result, msg: `${name}: ${result.problem}` };
    }
    const manifest = info.manifest!;
    return {
      kind: 'change',
      msg: `verify ${name} (${manifest.items.length} items)`,
      checkResult: { set: name, ok: false, items: [] },
      apply: async (remote) => {
        const items = await verifyItems(remote, `${p.root}/${name}`, manifest);
        return { set: name, ok: items.every((i) => i.ok), items };
      },
    };
  },
});
