/**
 * max_slot_wal_keep_size in MB (its base unit), from the inventory's value
 * (`10GB`) or from what current_setting() prints: PostgreSQL prints the
 * largest unit the value is an exact multiple of (1024MB reads back as
 * `1GB`, 0 as `0`, unlimited as `-1`), so the two are compared as sizes,
 * never as text. Undefined for text that is no such size.
 */
export function keepSizeMb(text: string): number | undefined {
  const m = /^(-?\d+)\s*(kB|MB|GB|TB)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n < 0) return -1;
  const perMb = { kB: 1 / 1024, MB: 1, GB: 1024, TB: 1024 * 1024 }[m[2] ?? 'MB']!;
  return n * perMb;
}
