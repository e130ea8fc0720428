import { z } from '../../shell/zod.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import { listingCommand, parseListing, type Listing } from '../listing.ts';

/** The sets under a backup root with their manifests, and the run log: read-only, so it runs in check mode. */
export const sets = defineOp({
  kind: 'backup.sets',
  schema: z.object({ root: absolutePath }).strict(),
  describe: (p) => p.root,
  readOnly: true,
  probe: (p) => ({ command: listingCommand(p.root), parse: parseListing }),
  decide: (p, listing: Listing): Decision<Listing> => {
    if (!listing.rootExists) return { kind: 'fail', reason: `backup root ${p.root} does not exist (is the backup disk mounted?)` };
    return { kind: 'ok', result: listing, msg: `${listing.sets.filter((s) => s.state === 'published').length} published sets` };
  },
});
