import { createHash } from 'node:crypto';
import { Secret } from '../../core/secret.ts';

/** A value in an env file: plain text, or a Secret (from `!vault`). */
export type EnvValue = string | number | boolean | Secret;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envKeyProblem(key: string): string | undefined {
  return KEY.test(key) ? undefined : `${key}: not a variable name (letters, digits and _, not starting with a digit)`;
}

/**
 * Compose's env-file format: KEY=VALUE per line, the value single-quoted so
 * that `$`, `#` and spaces are taken literally (Compose v2 reads '...' as a
 * literal value with no interpolation).
 */
function quoteValue(v: string): string {
  if (/^[A-Za-z0-9_./:@,+-]*$/.test(v)) return v;
  if (v.includes("'") || v.includes('\n')) return JSON.stringify(v);
  return `'${v}'`;
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
