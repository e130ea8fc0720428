import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETENTION, type ItemKind, type RetentionRule } from '../../lib/backup/config.ts';
import { isoWeek, planRetention, type SetEntry } from '../../lib/backup/retention.ts';

// Retention over 60 nightly sets (2026-09-24 .. 2026-11-22, 02:00) with one
// failed night, table-driven. Expectations are written as dates, by hand,
// not by re-running the algorithm.
const DAY = 86_400_000;
const FIRST = Date.UTC(2026, 8, 24);
const day = (iso: string) => iso.replaceAll('-', '') + '_020000';
const ALL_DAYS = Array.from({ length: 60 }, (_, i) => new Date(FIRST + i * DAY).toISOString().slice(0, 10));
const between = (from: string, to: string) => ALL_DAYS.filter((d) => d >= from && d <= to);

function sixtyNights(failed: string): SetEntry[] {
  return ALL_DAYS.map((d) => ({
    name: day(d),
    // The failed night left a set that was never published (its leftovers, or a set without a manifest).
    published: d !== failed,
    items: [
      { name: 'postgres-pg-vibedb', kind: 'postgres' as const },
      { name: 'volume-grafana_data', kind: 'volume' as const },
      { name: 'config-etc', kind: 'config' as const },
    ],
  }));
}

const rules = (over: Partial<Record<ItemKind, Partial<RetentionRule>>>): Record<ItemKind, RetentionRule> => {
  const zero = { last: 0, daily: 0, weekly: 0, monthly: 0 };
  return { postgres: { ...zero, ...over.postgres }, gitea: { ...zero, ...over.gitea }, volume: { ...zero, ...over.volume }, config: { ...zero, ...over.config } };
};

interface Row {
  name: string;
  failed: string;
  rules: Record<ItemKind, RetentionRule>;
  deleted: string[];
  /** set date -> item names removed from it */
  pruned: Record<string, string[]>;
}

const PG = 'postgres-pg-vibedb';
const VOL = 'volume-grafana_data';
const CFG = 'config-etc';

const rows: Row[] = [
  {
    // CLUSTER.md's periods. The failed night (11-10) holds no backup, so the
    // 30 daily database sets reach one day further back: 10-23, not 10-24.
    name: 'CLUSTER.md defaults, a failed night 12 days ago',
    failed: '2026-11-10',
    rules: DEFAULT_RETENTION,
    deleted: [],
    pruned: Object.fromEntries([
      ...between('2026-09-24', '2026-10-22').map((d) => [d, [PG, VOL]]),
      ...between('2026-10-23', '2026-10-24').map((d) => [d, [VOL]]),
    ]),
  },
  {
    name: 'the newest night failed: the newest verified set is the day before',
    failed: '2026-11-22',
    rules: DEFAULT_RETENTION,
    deleted: [],
    pruned: Object.fromEntries([
      ...between('2026-09-24', '2026-10-22').map((d) => [d, [PG, VOL]]),
      ...between('2026-10-23', '2026-10-24').map((d) => [d, [VOL]]),
    ]),
  },
  {
    // postgres: daily 11-16..22; weekly (ISO, Monday first) 11-22, 11-15, 11-08, 11-01;
    // monthly 11-22, 10-31, 09-30. volume: the last 3. config: nothing beyond the newest.
    name: 'daily, weekly, monthly and last together',
    failed: '2026-11-10',
    rules: rules({ postgres: { daily: 7, weekly: 4, monthly: 3 }, volume: { last: 3 } }),
    deleted: ALL_DAYS.filter(
      (d) => d !== '2026-11-10' && !between('2026-11-15', '2026-11-22').includes(d) && !['2026-11-08', '2026-11-01', '2026-10-31', '2026-09-30'].includes(d),
    ),
    pruned: {
      ...Object.fromEntries([...between('2026-11-15', '2026-11-19'), '2026-11-08', '2026-11-01', '2026-10-31', '2026-09-30'].map((d) => [d, [VOL, CFG]])),
      '2026-11-20': [CFG],
      '2026-11-21': [CFG],
    },
  },
  {
    name: 'rules that keep nothing still keep the newest verified set whole, and never touch the failed one',
    failed: '2026-11-10',
    rules: rules({}),
    deleted: ALL_DAYS.filter((d) => d !== '2026-11-22' && d !== '2026-11-10'),
    pruned: {},
  },
];

for (const row of rows) {
  test(`retention: ${row.name}`, () => {
    const plan = planRetention(sixtyNights(row.failed), row.rules);
    assert.deepEqual([...plan.deleteSets].sort(), row.deleted.map(day).sort());
    const pruned = Object.fromEntries(plan.pruneItems.map((p) => [p.set, [...p.items].sort()]));
    assert.deepEqual(pruned, Object.fromEntries(Object.entries(row.pruned).map(([d, items]) => [day(d), [...items].sort()])));
    assert.ok(!plan.deleteSets.includes(day(row.failed)), 'the failed night is never deleted by retention');
    const newest = ALL_DAYS.filter((d) => d !== row.failed).at(-1)!;
    assert.deepEqual(plan.keep.get(day(newest)), ['newest verified set']);
    assert.equal(plan.keep.size + plan.deleteSets.length, 59, 'every published set is kept or deleted, none twice');
  });
}

test('retention: no published set means nothing to do', () => {
  const plan = planRetention([{ name: '20261122_020000', published: false, items: [] }], DEFAULT_RETENTION);
  assert.deepEqual(plan.deleteSets, []);
  assert.equal(plan.keep.size, 0);
});

test('retention: names that are not sets are ignored, not deleted', () => {
  const plan = planRetention(
    [
      { name: 'lost+found', published: true, items: [{ name: 'x', kind: 'config' }] },
      { name: '20261122_020000', published: true, items: [{ name: CFG, kind: 'config' }] },
    ],
    rules({}),
  );
  assert.deepEqual(plan.deleteSets, []);
});

test('ISO weeks start on Monday and belong to the year of their Thursday', () => {
  assert.equal(isoWeek('20261122_020000'), '2026-W47'); // a Sunday
  assert.equal(isoWeek('20261123_020000'), '2026-W48'); // the Monday after
  assert.equal(isoWeek('20270101_020000'), '2026-W53'); // Friday 1 Jan 2027 is in 2026's last week
  assert.equal(isoWeek('20261231_020000'), '2026-W53');
});
