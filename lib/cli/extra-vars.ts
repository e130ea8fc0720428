import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from '../shell/yaml.ts';
import { InputError } from '../shell/errors.ts';
import type { LoadOptions } from '../inventory/yaml-inventory.ts';
import { readVarsFile } from '../inventory/yaml-inventory.ts';
import type { VarValue } from '../inventory/model.ts';
import { VAR_NAME } from '../inventory/connection-vars.ts';

/**
 * -e values, the highest precedence: KEY=VALUE (the value read as a YAML
 * scalar, so numbers and booleans keep their type), a JSON/YAML mapping, or
 * @file.yml.
 */
export function parseExtraVars(values: string[], load: LoadOptions): Map<string, VarValue> {
  const out = new Map<string, VarValue>();
  values.forEach((raw, index) => {
    const where = `-e #${index + 1}`;
    if (raw.startsWith('@')) {
      const file = raw.slice(1);
      if (!existsSync(file)) throw new InputError(where, `extra-vars file ${file} does not exist`);
      for (const [k, v] of readVarsFile(file, load)) out.set(k, v);
      return;
    }
    const trimmed = raw.trim();
    if (trimmed.startsWith('{')) {
      let obj: unknown;
      try {
        obj = JSON.parse(trimmed);
      } catch (err) {
        throw new InputError(where, `invalid JSON: ${(err as Error).message}`);
      }
      for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
        if (!VAR_NAME.test(k)) throw new InputError(where, `invalid variable name ${JSON.stringify(k)}`);
        out.set(k, { value: v, origin: `-e ${k}` });
      }
      return;
    }
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new InputError(where, `expected KEY=VALUE, @file.yml or a JSON object, got ${JSON.stringify(raw)}`);
    const key = raw.slice(0, eq);
    if (!VAR_NAME.test(key)) throw new InputError(where, `invalid variable name ${JSON.stringify(key)}`);
    const text = raw.slice(eq + 1);
    let value: unknown = text;
    try {
      const y = parseYaml(text);
      if (y === null || typeof y !== 'object') value = y ?? '';
    } catch {
      value = text;
    }
    out.set(key, { value, origin: `-e ${key}` });
  });
  return out;
}
