// `rigger schema inventory [MODULE.ts...]`: a JSON Schema (draft 2020-12) of
// an inventory in Ansible's YAML format, whose variables are the connection
// variables rigger reads and every role's variables, from the roles' own zod
// schemas (zod 4's z.toJSONSchema). Any other variable name is refused, so an
// editor with the YAML language server flags a misspelt role variable:
//   # yaml-language-server: $schema=./inventory.schema.json
// The roles come from the modules given, by default every .ts file under
// roles/: each exported role's defaults, and each exported zod object (vars
// schemas that plays share without a role).
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from '../../shell/zod.ts';
import { InputError } from '../../shell/errors.ts';
import { CONNECTION_VARS } from '../../inventory/connection-vars.ts';

type JsonSchema = Record<string, unknown>;
type ZodObjectLike = z.ZodObject & { _zod: { def: { type: string } } };

/** rigger's own connection variables (lib/cli/connection.ts reads them). */
const RIGGER_VARS: Record<string, JsonSchema> = {
  rigger_known_hosts_file: { type: 'string', description: 'known_hosts file that pins this host\'s key (default ~/.ssh/known_hosts)' },
  rigger_connect_timeout: { type: 'number', description: 'seconds to wait for the SSH connection' },
  rigger_proxy_jump: { type: 'string', description: 'a bastion to reach this host through (user@host:port)' },
};

const isZodObject = (v: unknown): v is ZodObjectLike =>
  typeof v === 'object' && v !== null && (v as { _zod?: { def?: { type?: string } } })._zod?.def?.type === 'object';

/** Every exported role's defaults and every exported zod object of these modules, named by where they came from. */
export function varSchemasOf(modules: { file: string; exports: Record<string, unknown> }[]): { from: string; schema: ZodObjectLike }[] {
  const found: { from: string; schema: ZodObjectLike }[] = [];
  for (const { file, exports } of modules) {
    for (const [name, value] of Object.entries(exports)) {
      const role = value as { name?: unknown; defaults?: unknown };
      if (typeof role?.name === 'string' && isZodObject(role.defaults)) found.push({ from: `role ${role.name}`, schema: role.defaults });
      else if (isZodObject(value)) found.push({ from: `${file} ${name}`, schema: value });
    }
  }
  return found;
}

/** The inventory's JSON Schema: groups, hosts and vars, with additionalProperties false on vars. */
export function inventorySchema(varSchemas: { from: string; schema: ZodObjectLike }[]): JsonSchema {
  const vars: Record<string, JsonSchema> = {};
  for (const name of Object.keys(CONNECTION_VARS)) vars[name] = { description: 'Ansible connection variable' };
  Object.assign(vars, RIGGER_VARS);
  for (const { from, schema } of varSchemas) {
    // io: input, so variables with defaults are optional; a !vault value (a Secret) is not representable and accepts anything.
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchema> };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      // The first declaration wins: roles sharing a variable declare it alike.
      vars[name] ??= { ...prop, description: [prop.description, `(${from})`].filter(Boolean).join(' ') };
    }
  }
  const nullable = (ref: string) => ({ anyOf: [{ type: 'null' }, { $ref: ref }] });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'rigger inventory',
    type: 'object',
    additionalProperties: { $ref: '#/$defs/group' },
    $defs: {
      vars: { type: 'object', properties: vars, additionalProperties: false },
      group: {
        type: 'object',
        additionalProperties: false,
        properties: {
          vars: { $ref: '#/$defs/vars' },
          hosts: { type: 'object', additionalProperties: nullable('#/$defs/vars') },
          children: { type: 'object', additionalProperties: nullable('#/$defs/group') },
        },
      },
    },
  };
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.m?ts$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  // From a checkout under tsx, TypeScript imports directly; the compiled
  // command bundles the user's files as it does for playbooks.
  if (import.meta.url.endsWith('.ts')) return (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  const { importTypeScript } = await import('./playbook.ts');
  return importTypeScript(file);
}

export async function main(args: string[]): Promise<number> {
  const [what, ...files] = args;
  if (what !== 'inventory') throw new InputError('command line', 'usage: rigger schema inventory [ROLE_MODULE.ts...] (default: every .ts file under roles/)');
  const modules = files.length ? files : existsSync('roles') ? tsFilesUnder('roles') : [];
  const loaded = [];
  for (const file of modules) loaded.push({ file, exports: await importModule(file) });
  process.stdout.write(JSON.stringify(inventorySchema(varSchemasOf(loaded)), null, 2) + '\n');
  return 0;
}
