import { readFileSync } from 'node:fs';
import { InputError } from 'rigger-ops';

/**
 * A repository unit file with ${NAME} placeholders filled from variables;
 * a name with no value is an error naming the file and line (a unit with
 * an empty Image= would fail later, far from its cause).
 */
export function renderTemplate(file: string, vars: Readonly<Record<string, string | number>>): string {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) =>
      line.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
        const v = vars[name];
        if (v === undefined) throw new InputError(`${file}:${i + 1}`, `\${${name}} has no value (set it in quadlet_vars)`);
        return String(v);
      }),
    )
    .join('\n');
}
