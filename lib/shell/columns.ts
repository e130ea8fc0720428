/** Rows of cells as aligned text columns, two spaces apart, no trailing blanks: the tables reports print. */
export function alignColumns(rows: string[][]): string {
  const width = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd()).join('\n');
}
