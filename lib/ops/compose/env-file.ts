import { Secret } from '../../shell/secret.ts';

/** A value in an env file: plain text, or a Secret (from `!vault`). */
export type EnvValue = string | number | boolean | Secret;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envKeyProblem(key: string): string | undefined {
  return KEY.test(key) ? undefined : `${key}: not a variable name (letters, digits and _, not starting with a digit)`;
}

/**
 * Compose's env-file format (Docker Compose v2 reads `.env` and `env_file:`
 * alike): KEY=VALUE per line. A value of plain characters goes as it is.
 * Others go in single quotes, which Compose takes literally (no `$`
 * interpolation, `#` and spaces kept), except where single quotes cannot
 * hold the value: a `'`, a line break, or a `\` at the end (`\'` does not
 * close the value). Those go in double quotes, where Compose expands `\\`,
 * `\"`, `\n`, `\r` and `\$` and interpolates a bare `$`, so each of those
 * characters is escaped. Checked by `docker compose config` on the lab
 * (test/lab/compose-quoting.test.ts).
 */
const DOUBLE_QUOTED: Record<string, string> = { '\\': '\\\\', '"': '\\"', $: '\\$', '\n': '\\n', '\r': '\\r' };

function quoteValue(v: string): string {
  if (/^[A-Za-z0-9_./:@,+-]*$/.test(v)) return v;
  if (!/['\n\r]/.test(v) && !v.endsWith('\\')) return `'${v}'`;
  return `"${v.replace(/[\\"$\n\r]/g, (c) => DOUBLE_QUOTED[c]!)}"`;
}

export function renderEnv(values: Readonly<Record<string, EnvValue>>): { text: string; secret: boolean } {
  let secret = false;
  const lines = Object.keys(values)
    .sort()
    .map((k) => {
      const v = values[k]!;
      if (v instanceof Secret) secret = true;
      return `${k}=${quoteValue(v instanceof Secret ? v.reveal() : String(v))}`;
    });
  return { text: lines.join('\n') + (lines.length ? '\n' : ''), secret };
}

/** A value in place of a hidden one. The same words for every value: nothing of the value, not even a digest, gets out. */
const HIDDEN_NOW = '*** (secret)';
const HIDDEN_BEFORE = '*** (previous value hidden)';
const HIDDEN_LINE = '*** (line hidden)';

/** An env file's KEY=VALUE lines by key: KEY -> the text after `=` on the key's (last) line. */
export function envEntries(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  return out;
}

/**
 * An env file's text before and after, as --diff shows them: no secret value,
 * old or new, nor any function of one (a digest would let a guess be
 * checked).
 *
 * After: a value is shown only where the inventory now gives its key a
 * plain value.
 *
 * Before: the host's file says nothing of which of its values were secrets
 * (a key plain now may have been a `!vault` value on the last run, a
 * removed key may have held one the redaction list no longer knows), so no
 * old value is ever shown unless it is public already: the line is shown
 * only when it equals the after side's line of a key plain now (then the
 * diff omits it anyway). A changed plain value shows its new value only.
 *
 * A secret key reads the same on both sides when its value is unchanged
 * (so the diff omits it) and differs when it changed; a line that is not
 * KEY=VALUE is hidden whole.
 */
export function maskEnvDiff(before: string, after: string, values: Readonly<Record<string, EnvValue>>): { before: string; after: string } {
  const plain = (key: string) => key in values && !(values[key] instanceof Secret);
  const now = envEntries(after);
  const mask = (text: string, side: 'before' | 'after') =>
    text
      .split('\n')
      .map((line) => {
        if (line.trim() === '') return line;
        const eq = line.indexOf('=');
        if (eq <= 0) return HIDDEN_LINE;
        const key = line.slice(0, eq).trim();
        const unchanged = side === 'after' || now.get(key) === line.slice(eq + 1);
        if (plain(key)) return unchanged ? line : `${key}=${HIDDEN_BEFORE}`;
        return `${key}=${unchanged && key in values ? HIDDEN_NOW : HIDDEN_BEFORE}`;
      })
      .join('\n');
  return { before: mask(before, 'before'), after: mask(after, 'after') };
}
