import { isMap, isSeq, LineCounter, parseDocument, type Node } from '../../shell/yaml.ts';
import { z } from '../../shell/zod.ts';

/**
 * The part of the Compose file format that `docker stack deploy` uses,
 * checked strictly so that a misspelt key (`deploy.placment`) is an error
 * with its line instead of a setting silently ignored by Docker.
 */
const stringList = z.array(z.string());
const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
const listOrMap = z.union([stringList, stringMap]);
const duration = z.string().regex(/^\d+(\.\d+)?(ns|us|ms|s|m|h)(\d+(\.\d+)?(ns|us|ms|s|m|h))*$/, 'a duration like 30s or 1m30s');

const resources = z
  .object({
    cpus: z.union([z.string(), z.number()]).optional(),
    memory: z.string().regex(/^\d+(\.\d+)?[bkmgBKMG]?$/, 'a size like 512M or 2G').optional(),
    pids: z.number().int().optional(),
    generic_resources: z.array(z.object({ discrete_resource_spec: z.object({ kind: z.string(), value: z.number() }).strict() }).strict()).optional(),
    devices: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .strict();

const deploy = z
  .object({
    mode: z.enum(['replicated', 'global']).optional(),
    replicas: z.number().int().min(0).optional(),
    endpoint_mode: z.enum(['vip', 'dnsrr']).optional(),
    labels: listOrMap.optional(),
    placement: z
      .object({
        constraints: stringList.optional(),
        preferences: z.array(z.object({ spread: z.string() }).strict()).optional(),
        max_replicas_per_node: z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
    resources: z.object({ limits: resources.optional(), reservations: resources.optional() }).strict().optional(),
    restart_policy: z
      .object({ condition: z.enum(['none', 'on-failure', 'any']).optional(), delay: duration.optional(), max_attempts: z.number().int().optional(), window: duration.optional() })
      .strict()
      .optional(),
    update_config: z.record(z.string(), z.unknown()).optional(),
    rollback_config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const port = z.union([
  z.string(),
  z.number(),
  z
    .object({ target: z.number().int(), published: z.union([z.number().int(), z.string()]).optional(), protocol: z.enum(['tcp', 'udp']).optional(), mode: z.enum(['host', 'ingress']).optional() })
    .strict(),
]);

const service = z
  .object({
    image: z.string().min(1, 'needs an image'),
    command: z.union([z.string(), stringList]).optional(),
    entrypoint: z.union([z.string(), stringList]).optional(),
    environment: listOrMap.optional(),
    env_file: z.never({ error: 'env_file is read on the machine that deploys: put the values in the inventory (stack env) instead' }).optional(),
    deploy: deploy.optional(),
    ports: z.array(port).optional(),
    networks: z.union([stringList, z.record(z.string(), z.union([z.null(), z.object({ aliases: stringList.optional() }).strict()]))]).optional(),
    volumes: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])).optional(),
    secrets: z.array(z.union([z.string(), z.object({ source: z.string(), target: z.string().optional(), mode: z.number().optional(), uid: z.string().optional(), gid: z.string().optional() }).strict()])).optional(),
    configs: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])).optional(),
    healthcheck: z
      .object({ test: z.union([z.string(), stringList]), interval: duration.optional(), timeout: duration.optional(), retries: z.number().int().optional(), start_period: duration.optional(), disable: z.boolean().optional() })
      .strict()
      .optional(),
    hostname: z.string().optional(),
    user: z.string().optional(),
    working_dir: z.string().optional(),
    labels: listOrMap.optional(),
    logging: z.object({ driver: z.string().optional(), options: stringMap.optional() }).strict().optional(),
    stop_grace_period: duration.optional(),
    cap_add: stringList.optional(),
    cap_drop: stringList.optional(),
    sysctls: listOrMap.optional(),
    ulimits: z.record(z.string(), z.unknown()).optional(),
    init: z.boolean().optional(),
    tmpfs: z.union([z.string(), stringList]).optional(),
    extra_hosts: stringList.optional(),
    dns: z.union([z.string(), stringList]).optional(),
    stop_signal: z.string().optional(),
    tty: z.boolean().optional(),
    stdin_open: z.boolean().optional(),
  })
  .strict();

const external = z.object({ external: z.literal(true), name: z.string().optional() }).strict();

export const composeSchema = z
  .object({
    version: z.union([z.string(), z.number()]).optional(),
    services: z.record(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a service name'), service).refine((s) => Object.keys(s).length > 0, 'needs at least one service'),
    networks: z.record(z.string(), z.union([z.null(), external, z.object({ driver: z.string().optional(), attachable: z.boolean().optional(), driver_opts: stringMap.optional(), labels: listOrMap.optional() }).strict()])).optional(),
    volumes: z.record(z.string(), z.union([z.null(), external, z.object({ driver: z.string().optional(), driver_opts: stringMap.optional(), labels: listOrMap.optional() }).strict()])).optional(),
    secrets: z.record(z.string(), z.union([external, z.object({ file: z.string() }).strict()])).optional(),
    configs: z.record(z.string(), z.union([external, z.object({ file: z.string() }).strict()])).optional(),
  })
  .strict();

export type Compose = z.output<typeof composeSchema>;
export type ComposeService = Compose['services'][string];

export interface ComposeProblem {
  line: number;
  col: number;
  message: string;
}

/**
 * Compose-style interpolation with the values the inventory gives:
 * ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, and $$
 * for a literal dollar. A variable with no value and no default is an
 * error, not an empty string.
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): { text: string; problems: ComposeProblem[] } {
  const problems: ComposeProblem[] = [];
  const lines = new LineCounter();
  let offset = 0;
  for (const l of text.split('\n')) {
    lines.addNewLine(offset);
    offset += l.length + 1;
  }
  const out = text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined, at: number) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = env[name];
    const empty = value === undefined || (op?.startsWith(':') === true && value === '');
    if (!empty) return value!;
    if (op === ':-' || op === '-') return arg ?? '';
    const { line, col } = lines.linePos(at);
    problems.push({ line, col, message: op?.endsWith('?') ? `${name}: ${arg || 'must be set'}` : `\${${name}} has no value: give it in the stack's env in the inventory` });
    return '';
  });
  return { text: out, problems };
}

function nodeAt(doc: ReturnType<typeof parseDocument>, path: PropertyKey[]): Node | undefined {
  let node: unknown = doc.contents;
  let last: Node | undefined = node as Node;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === String(key));
      if (!pair) return last;
      last = (pair.value as Node) ?? (pair.key as Node);
      node = pair.value;
      if (node === null || node === undefined) return pair.key as Node;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      last = node as Node;
    } else return last;
  }
  return last;
}

/** Parses and validates a rendered compose file; problems carry the line and column of the offending key. */
export function parseCompose(text: string): { compose?: Compose; problems: ComposeProblem[] } {
  const lines = new LineCounter();
  // merge: YAML 1.1 merge keys (<<: *anchor), which Docker's compose loader accepts.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, merge: true });
  const at = (offset: number) => lines.linePos(offset);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    return { problems: [{ ...at(e.pos[0]), message: `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '')}` }] };
  }
  // x-* keys are the format's extension fields (anchors for reuse): not part of the stack.
  const data = doc.toJS() as unknown;
  const withoutExtensions = data && typeof data === 'object' && !Array.isArray(data) ? Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith('x-'))) : data;
  const parsed = composeSchema.safeParse(withoutExtensions);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((i) => {
        const node = nodeAt(doc, i.path);
        const where = i.path.length ? `${i.path.join('.')}: ` : '';
        return { ...at(node?.range?.[0] ?? 0), message: `${where}${i.message}` };
      }),
    };
  }
  const compose = parsed.data;
  const problems: ComposeProblem[] = [];
  const declared = (kind: 'networks' | 'secrets' | 'volumes' | 'configs') => new Set(Object.keys(compose[kind] ?? {}));
  for (const [name, svc] of Object.entries(compose.services)) {
    const refs: [('networks' | 'secrets' | 'configs'), string[]][] = [
      ['networks', Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks ?? {})],
      ['secrets', (svc.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source))],
      ['configs', (svc.configs ?? []).map((c) => (typeof c === 'string' ? c : String((c as { source?: unknown }).source ?? '')))],
    ];
    for (const [kind, names] of refs) {
      const known = declared(kind);
      for (const ref of names) {
        if (!known.has(ref)) {
          const node = nodeAt(doc, ['services', name, kind]);
          problems.push({ ...at(node?.range?.[0] ?? 0), message: `services.${name}.${kind}: ${ref} is not declared under top-level ${kind}` });
        }
      }
    }
  }
  return problems.length ? { problems } : { compose, problems };
}

/** Networks a compose file expects to exist already (the networks role's job). */
export function externalNetworks(compose: Compose): string[] {
  return Object.entries(compose.networks ?? {})
    .filter(([, v]) => v !== null && 'external' in v && v.external)
    .map(([k, v]) => (v as { name?: string }).name ?? k);
}

export function externalSecrets(compose: Compose): string[] {
  return Object.entries(compose.secrets ?? {})
    .filter(([, v]) => 'external' in v && v.external)
    .map(([k, v]) => (v as { name?: string }).name ?? k);
}
