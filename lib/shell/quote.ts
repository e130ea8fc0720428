/**
 * POSIX single-quote quoting, byte exact.
 *
 * Inside single quotes every byte is literal for every POSIX shell (dash,
 * bash, busybox ash), so the only byte needing care is the quote itself,
 * which is written as '\'' (close, escaped quote, reopen). Works on Buffers
 * so that byte strings that are not valid UTF-8 survive unchanged.
 * zx's quote() emits bash-only $'...', which dash rejects: do not use it for
 * remote commands.
 */
const QUOTE = 0x27;
const ESCAPED_QUOTE = Buffer.from(`'\\''`);

export function quoteBytes(value: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from("'")];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === QUOTE) {
      parts.push(value.subarray(start, i), ESCAPED_QUOTE);
      start = i + 1;
    }
  }
  parts.push(value.subarray(start), Buffer.from("'"));
  return Buffer.concat(parts);
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote a value for a POSIX shell; plain words are left bare for readability. */
export function quote(value: string | Buffer | number | bigint): Buffer {
  if (typeof value === 'number' || typeof value === 'bigint') return Buffer.from(String(value));
  if (typeof value === 'string') {
    // A leading '-' stays quoted-safe: quoting does not stop option parsing,
    // that is the caller's job ('--'), so no special case here.
    if (SAFE.test(value)) return Buffer.from(value);
    return quoteBytes(Buffer.from(value, 'utf8'));
  }
  return quoteBytes(value);
}
