import { inspect } from 'node:util';

export const REDACTED = '***';

/**
 * Every value ever wrapped in a Secret, so that any text leaving the process
 * (terminal, NDJSON, error messages, diffs, remote output that echoes a
 * secret back) can be scrubbed in one place: {@link redact}.
 */
const knownValues = new Set<string>();
let pattern: RegExp | undefined;

function remember(value: string): void {
  // Very short values would redact ordinary words; they are still kept out
  // of argv and JSON by the Secret type itself.
  if (value.length < 3 || knownValues.has(value)) return;
  knownValues.add(value);
  pattern = undefined;
}

/** A password or token. Prints as *** everywhere; only reveal() gives the value. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    remember(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
  static isSecret(v: unknown): v is Secret {
    return v instanceof Secret;
  }
}

export function secret(value: string): Secret {
  return new Secret(value);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replace every known secret value in a text by ***. */
export function redact(text: string): string {
  if (knownValues.size === 0 || text.length === 0) return text;
  if (!pattern) {
    // Longest first so a secret that contains another is replaced whole.
    const alts = [...knownValues].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = new RegExp(alts.join('|'), 'g');
  }
  return text.replace(pattern, REDACTED);
}

/** Deep copy of a value with every string redacted and every Secret replaced. */
export function redactDeep<T>(value: T): T {
  return walk(value, new WeakMap()) as T;
}

function walk(v: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof v === 'string') return redact(v);
  if (v instanceof Secret) return REDACTED;
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return redact(v.toString('utf8'));
  if (seen.has(v)) return seen.get(v);
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const item of v) out.push(walk(item, seen));
    return out;
  }
  if (v instanceof Error) return redact(v.message);
  const out: Record<string, unknown> = {};
  seen.set(v, out);
  for (const [k, item] of Object.entries(v)) out[k] = walk(item, seen);
  return out;
}
