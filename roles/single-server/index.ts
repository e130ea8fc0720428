import path from 'node:path';
import { defineRole, ops, Secret, z, type HostContext } from 'rigger-ops';
import { healthGateSchema } from 'rigger-ops/lib/strategies/blue-green';
import { siteSchema } from 'rigger-ops/lib/ops/caddy/site';
import { renderEnv } from 'rigger-ops/lib/ops/compose/env-file';
import { renderTemplate } from './template.ts';
import { podmanVersionGate, QUADLET_MIN_PODMAN } from './podman-version.ts';

const envValues = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.instanceof(Secret)]));

export const releaseAppSchema = z
  .object({
    /** The slots' ports on the host: blue 3005 and green 3006 in the operators' layout. */
    slots: z.object({ blue: z.number().int(), green: z.number().int() }).strict().default({ blue: 3005, green: 3006 }),
    /** The repository's unit template for one slot (${APP}, ${SLOT}, ${PORT}, ${IMAGE}). */
    unit_template: z.string().default('layouts/single-server/app.container.tmpl'),
    /** The gate a new slot must pass before Caddy switches to it. */
    health: healthGateSchema.prefault({ url: 'http://127.0.0.1:{port}/api/health' }),
    /** The old slot runs this long after the switch (an instant rollback until then). */
    keep_old_for_seconds: z.number().int().min(0).default(3600),
  })
  .strict();

export const singleServerDefaults = z.object({
  single_server_packages: z.array(z.string()).default(['podman', 'nftables', 'aardvark-dns', 'caddy']),
  /** The oldest Podman with Quadlet: the role refuses an older one before it changes anything. */
  podman_min_version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'a version: 4.4 or 4.4.0').default(QUADLET_MIN_PODMAN),
  /** Registries Podman pulls from over plain HTTP (the lab's); empty on a real server. */
  podman_insecure_registries: z.array(z.string()).default([]),
  /** The repository directory of the Quadlet units, and the ones to install, in order (networks first). */
  quadlet_source: z.string().default('layouts/single-server/quadlet'),
  quadlet_units: z.array(z.string()).default(['app.network', 'postgres.container', 'redis.container', 'minio.container']),
  /** Values for ${NAME} in the units (their images). */
  quadlet_vars: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  /** Env files the units read (EnvironmentFile=): absolute path -> values, secrets as !vault; written 0600. */
  quadlet_env_files: z.record(z.string().regex(/^\/[A-Za-z0-9._/-]+$/, 'an absolute path'), envValues).default({}),
  /** Caddy's sites: each proxies to the live slot of its app (release_apps). */
  caddy_sites: z.array(siteSchema.omit({ upstreams: true }).extend({ app: z.string() })).default([]),
  caddy_email: z.string().optional(),
  /** The blue-green apps release.ts releases. */
  release_apps: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and -'), releaseAppSchema).default({}),
  /** Told when a release is rolled back: !vault (a webhook URL usually carries a token). */
  release_webhook: z.instanceof(Secret, { message: 'release_webhook must be a !vault value' }).optional(),
});

export type SingleServerVars = z.output<typeof singleServerDefaults>;
export const BLUE_GREEN_STATE = '/var/lib/rigger/blue-green';

/** app -> its live slot, from the blue-green state files (`cat` of them, one JSON per line); blue before any release. */
export function liveSlots(catOutput: string): Record<string, 'blue' | 'green'> {
  const out: Record<string, 'blue' | 'green'> = {};
  for (const line of catOutput.split('\n')) {
    if (!line.trim()) continue;
    const s = JSON.parse(line) as { app?: string; live?: 'blue' | 'green' };
    if (s.app && s.live) out[s.app] = s.live;
  }
  return out;
}

/** The Caddy op for these sites, each app's upstream on its live slot (or on `override`, the slot a release switches to). */
export function caddyOp(v: SingleServerVars, live: Record<string, 'blue' | 'green'>, override: Record<string, 'blue' | 'green'> = {}) {
  const sites = v.caddy_sites.map(({ app, ...site }) => {
    const a = v.release_apps[app];
    if (!a) throw new Error(`caddy_sites: ${site.address} proxies to app ${app}, which release_apps does not define`);
    const slot = override[app] ?? live[app] ?? 'blue';
    return { ...site, upstreams: [`127.0.0.1:${a.slots[slot]}`] };
  });
  return ops.caddy.site({ sites, ...(v.caddy_email ? { email: v.caddy_email } : {}) });
}

export const readLiveSlots = () => ops.shell({ script: `cat ${BLUE_GREEN_STATE}/*.json 2>/dev/null || true`, readOnly: true });

const unitOps = (h: HostContext<SingleServerVars>) =>
  h.vars.quadlet_units.map((name) => ops.podman.quadlet({ name, content: renderTemplate(path.join(h.vars.quadlet_source, name), h.vars.quadlet_vars) }));

/**
 * The single server: Podman (with Quadlet; an older Podman than 4.4 is
 * refused first), Caddy, the env files, the
 * Quadlet units of PostgreSQL, Redis and MinIO under systemd, and Caddy's
 * sites pointing at each app's live slot (release.ts moves them).
 */
export const singleServer = defineRole({
  name: 'single-server',
  defaults: singleServerDefaults,
  build: ({ task }) => {
    const live = task({ name: 'live slots', op: readLiveSlots() });
    return {
      tasks: [
        task({ name: 'podman 4.4 or newer (quadlet)', op: podmanVersionGate }),
        task({ name: 'podman and caddy packages', op: (h) => ops.apt.packages({ names: h.vars.single_server_packages, updateCache: true }) }),
        task({
          name: 'insecure registries (lab)',
          op: (h) =>
            ops.copy({
              path: '/etc/containers/registries.conf.d/50-rigger-insecure.conf',
              content: h.vars.podman_insecure_registries.map((r) => `[[registry]]\nlocation = "${r}"\ninsecure = true\n`).join('\n'),
              mode: '0644',
            }),
        }),
        task({ name: 'env files directory', op: (h) => ops.each('directories', [...new Set(Object.keys(h.vars.quadlet_env_files).map((f) => path.posix.dirname(f)))].map((d) => ops.file({ path: d, state: 'directory', mode: '0755' }))) }),
        task({
          name: 'env files',
          op: (h) =>
            ops.each(
              'env files',
              Object.entries(h.vars.quadlet_env_files).map(([file, values]) => {
                const { text, secret } = renderEnv(values);
                return ops.copy({ path: file, content: secret ? Secret.unlisted(text) : text, mode: '0600' });
              }),
            ),
        }),
        task({ name: 'quadlet units', op: (h) => ops.each('quadlet units', unitOps(h)) }),
        live,
        task({ name: 'caddy sites', op: (h) => caddyOp(h.vars, liveSlots(h.result(live)?.stdout ?? '')) }),
      ],
    };
  },
});
