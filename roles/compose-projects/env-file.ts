import { readFileSync } from 'node:fs';
import { InputError } from 'rigger-ops';

/**
 * A repository env file (KEY=VALUE lines, # comments, optional quotes), as
 * Compose reads env files. A line that is not an assignment is an error
 * naming its file and line.
 */
export function parseEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (!m) throw new InputError(`${file}:${i + 1}`, `expected KEY=VALUE, got ${JSON.stringify(line.slice(0, 60))}`);
      let v = m[2]!;
      if (/^'.*'$/.test(v)) v = v.slice(1, -1);
      else if (/^".*"$/.test(v)) v = JSON.parse(v) as string;
      out[m[1]!] = v;
    });
  return out;
}
