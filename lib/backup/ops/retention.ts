import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { sh, type Command } from '../../shell/command.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import { ITEM_KINDS, retentionRule } from '../config.ts';
import { listingCommand, parseListing, type Listing, type Manifest } from '../listing.ts';
import { planRetention, SET_NAME, type RetentionPlan } from '../retention.ts';
import { atomicWrite } from '../../ops/files/write-file.ts';

const schema = z.object({ root: absolutePath, rules: z.record(z.enum(ITEM_KINDS), retentionRule) }).strict();

export interface RetentionResult {
  kept: number;
  deleted: string[];
  pruned: { set: string; items: string[] }[];
}

/** A manifest without the pruned items, naming them, so --verify and recovery skip what is gone on purpose. */
function prunedManifest(m: Manifest, items: string[]): Buffer {
  const next: Manifest = { ...m, items: m.items.filter((i) => !items.includes(i.name)), pruned: [...(m.pruned ?? []), ...items] };
  return Buffer.from(JSON.stringify(next) + '\n', 'utf8');
}

function commandsFor(root: string, plan: RetentionPlan, listing: Listing): Command[] {
  const commands: Command[] = [];
  for (const set of plan.deleteSets) {
    // The planner only returns names it read; the check is for the next engineer who changes it.
    if (!SET_NAME.test(set)) throw new Error(`refusing to delete ${set}: not a set name`);
    commands.push(sh`rm -rf -- ${`${root}/${set}`}`);
  }
  for (const { set, items } of plan.pruneItems) {
    const m = listing.sets.find((s) => s.name === set)!.manifest!;
    const files = m.items.filter((i) => items.includes(i.name)).map((i) => `${root}/${set}/${i.file}`);
    const text = prunedManifest(m, items);
    // Manifest first: a crash between the two leaves a file the manifest no longer lists, never a listed file that is gone.
    commands.push(atomicWrite(`${root}/${set}/manifest.json`, text, createHash('sha256').update(text).digest('hex'), '0600', {}));
    commands.push(sh`rm -f -- ${files}`);
  }
  return commands;
}

/**
 * Retention after a published set: the pure plan (backup/retention.ts)
 * over what is on disk, then the deletions. Partial sets are never touched
 * here, and the newest published set is always kept.
 */
export const retention = defineOp({
  kind: 'backup.retention',
  schema,
  describe: (p) => p.root,
  probe: (p) => ({ command: listingCommand(p.root), parse: parseListing }),
  decide: (p, listing: Listing): Decision<RetentionResult> => {
    const entries = listing.sets.map((s) => ({
      name: s.name,
      published: s.state === 'published',
      items: (s.manifest?.items ?? []).map((i) => ({ name: i.name, kind: i.kind })),
    }));
    const plan = planRetention(entries, p.rules);
    const result: RetentionResult = { kept: plan.keep.size, deleted: plan.deleteSets, pruned: plan.pruneItems };
    if (plan.deleteSets.length === 0 && plan.pruneItems.length === 0) return { kind: 'ok', result, msg: `${plan.keep.size} sets kept, nothing to remove` };
    const parts = [
      plan.deleteSets.length ? `delete ${plan.deleteSets.length} sets (${plan.deleteSets.join(', ')})` : '',
      plan.pruneItems.length ? `prune ${plan.pruneItems.map((x) => `${x.set}: ${x.items.join(' ')}`).join('; ')}` : '',
    ].filter(Boolean);
    return { kind: 'change', msg: parts.join('; '), commands: commandsFor(p.root, plan, listing), result: () => result, checkResult: result };
  },
});
