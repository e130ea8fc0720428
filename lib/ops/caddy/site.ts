import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { sh, type Command } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { fileAndServiceProbe, type FileAndService } from '../files/file-and-service.ts';
import { atomicWrite } from '../files/write-file.ts';
import { validateWithShell } from '../files/validate-words.ts';

const token = z.string().regex(/^[^\s{}"#]+$/, 'one Caddyfile token: no spaces, braces, quotes or #');

export const siteSchema = z
  .object({
    /** The site address: a domain (automatic HTTPS), https://IP, :443, localhost... */
    address: token,
    /** Upstreams of reverse_proxy (host:port), tried in order. */
    upstreams: z.array(token).min(1),
    /** internal: Caddy's own CA (a lab, a LAN); an e-mail: ACME with that account; omitted: Caddy's default. */
    tls: token.optional(),
    /** Response headers set on every answer. */
    headers: z.record(token, z.string().regex(/^[^"\n]*$/, 'no double quotes or newlines')).default({}),
    /** A path answered by Caddy itself with 200 (a proxy health check that does not depend on the app). */
    healthPath: token.optional(),
  })
  .strict();

const schema = z
  .object({
    sites: z.array(siteSchema).min(1),
    /** Global options: the ACME account e-mail. */
    email: token.optional(),
    path: z.string().regex(/^\/[A-Za-z0-9._/-]+$/).default('/etc/caddy/Caddyfile'),
  })
  .strict();

type Params = z.output<typeof schema>;

/** The Caddyfile for these typed values: one block per site, always the same text for the same values. */
export function renderCaddyfile(p: Pick<Params, 'sites' | 'email'>): string {
  const out = ['# Managed by rigger (ops.caddy.site): changes here are replaced on the next run.'];
  if (p.email) out.push('{', `\temail ${p.email}`, '}');
  for (const s of p.sites) {
    out.push('', `${s.address} {`);
    if (s.tls) out.push(`\ttls ${s.tls}`);
    const headers = Object.entries(s.headers);
    if (headers.length) out.push('\theader {', ...headers.map(([k, v]) => `\t\t${k} "${v}"`), '\t}');
    if (s.healthPath) out.push(`\trespond ${s.healthPath} 200`);
    out.push(`\treverse_proxy ${s.upstreams.join(' ')}`, '}');
  }
  return out.join('\n') + '\n';
}

/**
 * Caddy's sites rendered from typed values into the Caddyfile, validated
 * with `caddy validate` before it replaces the old one, then applied with
 * `caddy reload` (a graceful config swap: open connections are kept),
 * never a restart. A Caddy that is not running is started.
 */
export const site = defineOp({
  kind: 'caddy.site',
  schema,
  describe: (p) => `${p.path}: ${p.sites.map((s) => `${s.address} -> ${s.upstreams.join(' ')}`).join(', ')}`,
  probe: (p) => fileAndServiceProbe(p.path, 'caddy'),
  decide: (p, s: FileAndService): Decision<{ path: string; reloaded: boolean }> => {
    const text = renderCaddyfile(p);
    const content = Buffer.from(text);
    const sha = createHash('sha256').update(content).digest('hex');
    const same = s.file.exists && s.file.sha256 === sha;
    const running = s.active === 'active';
    if (same && running) return { kind: 'ok', result: { path: p.path, reloaded: false } };
    const commands: Command[] = [];
    if (!same) commands.push(atomicWrite(p.path, content, sha, '0644', { makeParents: true, validate: validateWithShell('exec caddy validate --adapter caddyfile --config "$1" >/dev/null') }));
    commands.push(running ? sh`caddy reload --adapter caddyfile --config ${p.path}` : sh`systemctl start caddy`);
    return {
      kind: 'change',
      msg: [same ? '' : `${s.file.exists ? 'update' : 'create'} ${p.path}`, running ? 'caddy reload' : 'start caddy'].filter(Boolean).join(', '),
      ...(same ? {} : { diff: { kind: 'text' as const, path: p.path, before: s.file.content?.toString('utf8') ?? '', after: text } }),
      commands,
      result: () => ({ path: p.path, reloaded: running }),
      checkResult: { path: p.path, reloaded: running },
    };
  },
});
