import { containsSecret, redact } from '../shell/secret.ts';

/**
 * A registered result as JSON for the run record, and back. Buffers (an
 * ExecResult's stdout), dates, maps, sets and bigints keep their type
 * through a `{"$rigger": kind}` wrapper; functions and symbols are left out.
 *
 * A result that holds a secret is not written at all ({@link Withheld}): a
 * Secret anywhere inside, or any text (a string, a buffer's bytes) in which
 * a known secret value appears in any form redact() knows (plain, escaped,
 * base64 at every alignment, hex, digests), with or without the whitespace
 * a tool puts between lines or bytes. The resumed run reads secrets
 * from the inventory again; a task that reads a withheld result fails there
 * and says why.
 */
export type Encoded = null | boolean | number | string | Encoded[] | { [key: string]: Encoded };

/** Why a result is not in the record: a secret was in it, or its JSON is larger than {@link MAX_RESULT_BYTES}. */
export interface Withheld {
  withheld: 'secret' | 'size';
}

/**
 * A result larger than this (a command's big stdout) is not kept: the
 * record is written again and again during a run, and a resume of a task
 * that reads such a result is better run again whole.
 */
export const MAX_RESULT_BYTES = 1024 * 1024;

/**
 * All the results a record keeps, together: past this, a result is
 * withheld for its size too. The record is written whole during the run;
 * a bound on it bounds each write (and the file a resume reads).
 */
export const MAX_RECORD_RESULTS_BYTES = 16 * 1024 * 1024;

class HoldsSecret extends Error {}

const TAG = '$rigger';

/** The result as JSON, or Withheld when a secret is in it. */
export function encodeResult(value: unknown): { value: Encoded } | Withheld {
  return encodeSized(value, MAX_RESULT_BYTES).result;
}

/** The result as JSON, withheld for its size past `limit` bytes; `bytes`: the size of what is kept. */
export function encodeSized(value: unknown, limit: number): { result: { value: Encoded } | Withheld; bytes: number } {
  if (containsSecret(value)) return { result: { withheld: 'secret' }, bytes: 0 };
  try {
    const encoded = encode(value, new Set());
    // Every string, key and buffer is in this one text, JSON-escaped (an escaped form is one redact() knows).
    const text = JSON.stringify(encoded);
    if (holdsSecret(text)) return { result: { withheld: 'secret' }, bytes: 0 };
    if (text.length > limit) return { result: { withheld: 'size' }, bytes: 0 };
    return { result: { value: encoded }, bytes: text.length };
  } catch (err) {
    if (err instanceof HoldsSecret) return { result: { withheld: 'secret' }, bytes: 0 };
    throw err;
  }
}

/**
 * Whether a known secret appears in a text, also once its whitespace is
 * gone (`base64` wraps lines, `od` spaces its hex), JSON's escaped newlines
 * and tabs included.
 */
function holdsSecret(text: string): boolean {
  const flat = text.replace(/\s+|\\[nrt]/g, '');
  return redact(text) !== text || redact(flat) !== flat;
}

function checked(text: string): string {
  if (holdsSecret(text)) throw new HoldsSecret();
  return text;
}

function encode(v: unknown, seen: Set<object>): Encoded {
  if (v === undefined) return { [TAG]: 'undefined' };
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : { [TAG]: 'number', value: String(v) };
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return { [TAG]: 'bigint', value: v.toString() };
  if (typeof v !== 'object') return { [TAG]: 'undefined' };
  if (seen.has(v)) return { [TAG]: 'circular' };
  seen.add(v);
  try {
    if (v instanceof Uint8Array) {
      const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      // Its text, checked here: a short secret's base64 forms are too short to be listed for redact().
      checked(bytes.toString('utf8'));
      return { [TAG]: 'buffer', base64: bytes.toString('base64') };
    }
    if (v instanceof Date) return { [TAG]: 'date', iso: v.toISOString() };
    if (v instanceof Map) return { [TAG]: 'map', entries: [...v].map(([k, x]) => [encode(k, seen), encode(x, seen)]) };
    if (v instanceof Set) return { [TAG]: 'set', values: [...v].map((x) => encode(x, seen)) };
    if (Array.isArray(v)) return v.map((x) => encode(x, seen));
    if (v instanceof Error) return { [TAG]: 'error', message: v.message };
    const out: Record<string, Encoded> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'function' || typeof x === 'symbol') continue;
      out[k] = encode(x, seen);
    }
    // A result of the user's own that has the tag as a key is wrapped, so decoding gives it back as it was.
    return TAG in out ? { [TAG]: 'object', value: out } : out;
  } finally {
    seen.delete(v);
  }
}

/** The value {@link encodeResult} wrote. */
export function decodeResult(e: Encoded): unknown {
  if (e === null || typeof e !== 'object') return e;
  if (Array.isArray(e)) return e.map(decodeResult);
  const tag = e[TAG];
  if (typeof tag === 'string') {
    switch (tag) {
      case 'undefined':
      case 'circular':
        return undefined;
      case 'number':
        return Number(e.value);
      case 'bigint':
        return BigInt(String(e.value));
      case 'buffer':
        return Buffer.from(String(e.base64), 'base64');
      case 'date':
        return new Date(String(e.iso));
      case 'map':
        return new Map((e.entries as Encoded[][]).map(([k, x]) => [decodeResult(k!), decodeResult(x!)]));
      case 'set':
        return new Set((e.values as Encoded[]).map(decodeResult));
      case 'error':
        return new Error(String(e.message));
      case 'object':
        return decodeObject(e.value as Record<string, Encoded>);
    }
  }
  return decodeObject(e);
}

function decodeObject(e: Record<string, Encoded>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(e)) {
    const v = decodeResult(x);
    if (v !== undefined) out[k] = v;
  }
  return out;
}
