import type { ItemKind, RetentionRule } from './config.ts';

/** A set as retention sees it: its name (YYYYMMDD_HHMMSS), whether it was published, and its live items. */
export interface SetEntry {
  name: string;
  /** Published: every item verified and the manifest written. Anything else is never touched here. */
  published: boolean;
  items: { name: string; kind: ItemKind }[];
}

export interface RetentionPlan {
  /** Sets kept whole or in part, with why (`postgres: daily 3`). */
  keep: Map<string, string[]>;
  /** Sets none of whose items any rule keeps: removed whole. */
  deleteSets: string[];
  /** Items removed from sets that stay (a set kept for its databases drops its volume tars). */
  pruneItems: { set: string; items: string[] }[];
}

export const SET_NAME = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/;

/** ISO 8601 week (year-Www) of a set's date: weeks start on Monday, as restic's and borg's weekly rules. */
export function isoWeek(setName: string): string {
  const m = SET_NAME.exec(setName);
  if (!m) throw new Error(`not a set name: ${setName}`);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

const BUCKETS: [keyof RetentionRule, (name: string) => string][] = [
  ['last', (n) => n],
  ['daily', (n) => n.slice(0, 8)],
  ['weekly', isoWeek],
  ['monthly', (n) => n.slice(0, 6)],
];

/** The sets (newest first) a rule keeps, with the rule that keeps each. */
function keptBy(rule: RetentionRule, newestFirst: string[]): Map<string, string[]> {
  const kept = new Map<string, string[]>();
  for (const [field, bucketOf] of BUCKETS) {
    const want = rule[field];
    const seen = new Set<string>();
    for (const set of newestFirst) {
      if (seen.size >= want) break;
      const bucket = bucketOf(set);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      kept.set(set, [...(kept.get(set) ?? []), `${field} ${seen.size}`]);
    }
  }
  return kept;
}

/**
 * What retention removes, as a pure function of the sets on disk and the
 * rules. Names sort chronologically, so no clock is read: a set's age is
 * its place among the others. Only published sets count and only they can
 * be removed; the newest published set is always kept whole, so a night
 * that fails never leaves the backup root with nothing verified in it.
 */
export function planRetention(sets: readonly SetEntry[], rules: Record<ItemKind, RetentionRule>): RetentionPlan {
  const published = sets.filter((s) => s.published && SET_NAME.test(s.name)).sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  const keep = new Map<string, string[]>();
  const deleteSets: string[] = [];
  const pruneItems: RetentionPlan['pruneItems'] = [];
  if (published.length === 0) return { keep, deleteSets, pruneItems };
  const newest = published[0]!.name;
  keep.set(newest, ['newest verified set']);
  const keptByKind = new Map<ItemKind, Map<string, string[]>>();
  for (const kind of Object.keys(rules) as ItemKind[]) {
    const holders = published.filter((s) => s.items.some((i) => i.kind === kind)).map((s) => s.name);
    keptByKind.set(kind, keptBy(rules[kind], holders));
  }
  for (const set of published.slice(1)) {
    const reasons: string[] = [];
    const dropped: string[] = [];
    for (const item of set.items) {
      const why = keptByKind.get(item.kind)?.get(set.name);
      if (why) reasons.push(...why.map((w) => `${item.kind}: ${w}`));
      else dropped.push(item.name);
    }
    if (reasons.length === 0) deleteSets.push(set.name);
    else {
      keep.set(set.name, [...new Set(reasons)]);
      if (dropped.length) pruneItems.push({ set: set.name, items: dropped });
    }
  }
  return { keep, deleteSets, pruneItems };
}
