import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { callSite, formatLocation } from './location.ts';

export const REDACTED = '***';

/** Shown instead of a diff's content when the file holds a Secret. */
export const CONTENT_HIDDEN = '(content hidden: secret)';

/**
 * Every form a secret value can take on its way out, for the second line of
 * defence ({@link redact}): the ops themselves never print what they read
 * about secret content, and this catches what slips through (a command that
 * echoes its stdin, a digest in an error, a JSON-escaped copy).
 */
const knownForms = new Set<string>();
let pattern: RegExp | undefined;
/** The longest form known: a streaming redactor holds back this much. */
let longestForm = 0;

/** The encodings a value takes in logs: escapes, base64 at each alignment, hex and digests. */
export function formsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>([value]);
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(encodeURIComponent(value));
  forms.add(encodeURIComponent(value).replace(/%20/g, '+'));
  forms.add(escape(value));
  forms.add(value.replace(/'/g, `'\\''`));
  // A value inside a longer base64 text is encoded at one of three offsets;
  // the fully determined middle of each is what can appear.
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const b64 = padded.toString('base64').replace(/=+$/, '');
    const start = shift === 0 ? 0 : shift === 1 ? 2 : 3;
    const complete = Math.floor(padded.length / 3) * 4;
    const core = b64.slice(start, complete);
    if (core.length >= 4) forms.add(core);
    if (shift === 0) forms.add(b64);
  }
  forms.add(bytes.toString('base64'));
  forms.add(bytes.toString('base64url'));
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  for (const alg of ['sha256', 'sha1', 'md5']) {
    for (const input of [bytes, Buffer.concat([bytes, Buffer.from('\n')])]) {
      const d = createHash(alg).update(input).digest();
      forms.add(d.toString('hex'));
      forms.add(d.toString('base64'));
    }
  }
  return [...forms];
}

function remember(value: string): void {
  // Very short values would redact ordinary words; they are still kept out
  // of argv and JSON by the Secret type itself.
  if (value.length < 3) return;
  let added = false;
  for (const form of formsOf(value)) {
    // Encoded forms shorter than 8 characters would match ordinary text.
    if ((form !== value && form.length < 8) || knownForms.has(form)) continue;
    knownForms.add(form);
    longestForm = Math.max(longestForm, form.length);
    added = true;
  }
  if (added) pattern = undefined;
}

/** A Secret was turned into text: in a template literal or string concatenation. */
export class SecretAsTextError extends TypeError {
  constructor() {
    // The first frame outside rigger's lib/ is the line that did it.
    const where = callSite();
    super(
      `${where ? `${formatLocation(where)}: ` : ''}a Secret was used as text (a template literal or string concatenation); ` +
        'it would have become "***". Pass the Secret itself: as content of copy/template, ' +
        'as stdin, env or files of command/shell, or build a new one with secret(`...${s.reveal()}...`)',
    );
    this.name = 'SecretAsTextError';
  }
}

let listing = true;

/** A password or token. Prints as *** in logs and JSON; only reveal() gives the value; as text it is an error. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    if (listing) remember(value);
  }
  /**
   * A text made from secrets (a rendered file): handled as a Secret, but not
   * added to the redaction list, whose longest entry sets how much streamed
   * output is held back. The secrets inside it are listed on their own.
   */
  static unlisted(value: string): Secret {
    listing = false;
    try {
      return new Secret(value);
    } finally {
      listing = true;
    }
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    throw new SecretAsTextError();
  }
  valueOf(): never {
    throw new SecretAsTextError();
  }
  [Symbol.toPrimitive](): never {
    throw new SecretAsTextError();
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

function matcher(): RegExp | undefined {
  if (knownForms.size === 0) return undefined;
  // Longest first so a form that contains another is replaced whole.
  pattern ??= new RegExp([...knownForms].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  return pattern;
}

/** Replace every known secret value, in every known form, in a text by ***. */
export function redact(text: string): string {
  const re = text.length === 0 ? undefined : matcher();
  return re ? text.replace(re, REDACTED) : text;
}

/**
 * Redacts a stream that arrives in chunks, where a value may be split
 * between two of them: the tail that could still be the start of a secret
 * (shorter than the longest form) is held back until the next chunk or end().
 */
export class StreamRedactor {
  #held = '';
  push(chunk: string): string {
    const text = this.#held + chunk;
    const re = matcher();
    if (!re) return text;
    let cut = Math.max(0, text.length - (longestForm - 1));
    // A whole match that starts before the cut is emitted whole.
    for (const m of text.matchAll(re)) if (m.index < cut && m.index + m[0].length > cut) cut = m.index + m[0].length;
    // Whole lines where there are any, so a renderer never splits one in two.
    const eol = text.lastIndexOf('\n', cut - 1);
    if (eol >= 0) cut = eol + 1;
    this.#held = text.slice(cut);
    return redact(text.slice(0, cut));
  }
  end(): string {
    const rest = redact(this.#held);
    this.#held = '';
    return rest;
  }
}

/** Whether a value holds a Secret anywhere inside (an op's parameters, a template's variables). */
export function containsSecret(v: unknown, seen = new Set<object>()): boolean {
  if (v instanceof Secret) return true;
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || seen.has(v)) return false;
  seen.add(v);
  return Object.values(v).some((item) => containsSecret(item, seen));
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
