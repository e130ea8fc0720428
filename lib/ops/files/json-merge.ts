/**
 * Desired keys win, every other key is kept: objects merge recursively,
 * arrays and scalars are replaced whole. Used for /etc/docker/daemon.json,
 * where other tools (the NVIDIA toolkit, an operator) own other keys.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergeJson(current: Json, desired: Json): Json {
  if (!isObject(current) || !isObject(desired)) return desired;
  const out: Record<string, Json> = { ...current };
  for (const [k, v] of Object.entries(desired)) out[k] = k in current ? mergeJson(current[k]!, v) : v;
  return out;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  return a === b;
}
