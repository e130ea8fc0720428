import { z } from '../../shell/zod.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { manifestSchema } from '../../backup/listing.ts';
import { verifyItems, type ItemVerdict } from '../../backup/verify-script.ts';
import { readDumpLocally } from '../local-read.ts';

export interface RecoveryVerdict {
  set: string;
  ok: boolean;
  items: ItemVerdict[];
}

/**
 * The whole set checked before anything changes: every item's sha256
 * against the manifest, then a full read of every artefact: on the backup
 * host, or, for dumps on a host without Docker yet, by this machine's
 * pg_restore streaming the dump over SSH. Read-only.
 */
export const verifyForRecovery = defineOp({
  kind: 'recovery.verify',
  // The manifest's own schema (listing.ts): its names and files reach the verify script.
  schema: z.object({ dir: z.string().startsWith('/'), manifest: manifestSchema }).strict(),
  describe: (p) => p.dir,
  readOnly: true,
  decide: (p): Decision<RecoveryVerdict> => ({
    kind: 'change',
    msg: `verify ${p.manifest.set}: ${p.manifest.items.length} items`,
    checkResult: { set: p.manifest.set, ok: false, items: [] },
    apply: async (remote) => {
      const items = await verifyItems(remote, p.dir, p.manifest, { deferDumpsWithoutDocker: true });
      for (const v of items.filter((i) => i.pending)) {
        const item = p.manifest.items.find((i) => i.name === v.item)!;
        const read = await readDumpLocally(remote, `${p.dir}/${item.file}`);
        v.ok = read.ok;
        v.detail = read.detail;
        delete v.pending;
      }
      if (p.manifest.items.length === 0) items.push({ item: 'set', ok: false, detail: 'the manifest lists no items' });
      return { set: p.manifest.set, ok: items.every((i) => i.ok), items };
    },
  }),
});
