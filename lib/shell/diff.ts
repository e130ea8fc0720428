/**
 * What a change would do, in a form renderers can show: unified diffs for
 * text, a list of changed paths for JSON and specs. Produced by ops, printed
 * only with --diff, always passed through redaction.
 */
export type Diff =
  | { kind: 'text'; path: string; before: string; after: string }
  | { kind: 'json'; path: string; before: unknown; after: unknown }
  | { kind: 'summary'; lines: string[] };

export interface JsonChange {
  path: string;
  op: 'add' | 'remove' | 'change';
  before?: unknown;
  after?: unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Paths that differ between two JSON values, objects compared key by key. */
export function jsonChanges(before: unknown, after: unknown, base = ''): JsonChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = base ? `${base}.${k}` : k;
      if (!(k in before)) return [{ path: p, op: 'add' as const, after: after[k] }];
      if (!(k in after)) return [{ path: p, op: 'remove' as const, before: before[k] }];
      return jsonChanges(before[k], after[k], p);
    });
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: base || '(root)', op: 'change', before, after }];
}
