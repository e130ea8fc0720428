import { createHash } from 'node:crypto';
import { Secret } from '../../core/secret.ts';

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

const digest = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 12);

/**
 * An env file's text with the values of secret keys replaced by a short
 * digest, so --diff can say a secret changed without showing it (nor its
 * old value, which the redaction list does not know).
 */
export function maskEnv(text: string, secretKeys: ReadonlySet<string>): string {
  return text
    .split('\n')
    .map((line) => {
      const eq = line.indexOf('=');
      if (eq < 0) return line;
      const key = line.slice(0, eq).trim();
      return secretKeys.has(key) ? `${key}=*** (secret, sha ${digest(line.slice(eq + 1))})` : line;
    })
    .join('\n');
}

export function secretKeysOf(values: Readonly<Record<string, EnvValue>>): Set<string> {
  return new Set(Object.keys(values).filter((k) => values[k] instanceof Secret));
}
