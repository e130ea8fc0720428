import type { z } from '../shell/zod.ts';
import { InputError } from '../shell/errors.ts';
import type { VarsSchema } from '../model/role.ts';
import type { Inventory } from '../inventory/inventory.ts';
import type { VarValue } from '../inventory/model.ts';

/**
 * A host's variables after precedence (docs/inventory.md, "Variable precedence"):
 * role defaults < group vars (all < parent < child) < host vars
 *   < play vars < extra vars (-e).
 * Role defaults are applied by {@link typedVars}, since each role has its own.
 */
export function resolveHostVars(
  inventory: Inventory,
  host: string,
  playVars: Map<string, VarValue>,
  extraVars: Map<string, VarValue>,
): Map<string, VarValue> {
  const merged = inventory.varsFor(host);
  for (const [k, v] of playVars) merged.set(k, v);
  for (const [k, v] of extraVars) merged.set(k, v);
  merged.set('inventory_hostname', { value: host, origin: 'inventory' });
  return merged;
}

export function plainVars(vars: Map<string, VarValue>): Record<string, unknown> {
  return Object.fromEntries([...vars].map(([k, v]) => [k, v.value]));
}

/**
 * Checks a host's variables against a role's (or play's) schema, filling
 * defaults. A bad value is reported at the line where the user wrote it.
 */
export function typedVars<S extends VarsSchema>(
  schema: S,
  vars: Map<string, VarValue>,
  owner: string,
  host: string,
): z.output<S> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = vars.get(key);
    if (v !== undefined) input[key] = v.value;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ...plainVars(vars), ...(parsed.data as object) } as z.output<S>;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? '');
  const origin = vars.get(name)?.origin;
  const path = issue.path.join('.');
  throw new InputError(
    origin ?? `${owner} (host ${host})`,
    `variable ${path} of ${owner} for host ${host}: ${issue.message}` +
      (origin && typeof origin !== 'string' ? '' : origin ? ` (set by ${origin})` : ' (not set; the role has no default)'),
  );
}
