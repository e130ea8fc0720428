// The applications' public names, given to the stack files as ${VAR}s: without
// them Gitea's clone URLs and n8n's webhook URLs name localhost. The defaults
// are the operators' values (../shared/operators/000 section 6.1: data-node.yml's
// GITEA__server__DOMAIN/ROOT_URL/SSH_DOMAIN git.vibe.yourdomain.com and
// gateway.yml's n8n WEBHOOK_URL https://n8n.vibe.yourdomain.com); the derived
// ones follow the name they are derived from, so setting the domain is enough.
import { z } from 'rigger-ops';

const hostName = z.string().regex(/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, 'a host name (letters, digits, dots and dashes; no scheme, port or path)');
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

export const appSettingsVars = z.object({
  /** Gitea's DOMAIN: the host name its web pages and clone URLs name. */
  gitea_domain: hostName.default('git.vibe.yourdomain.com'),
  /** Gitea's ROOT_URL; unset: https://{gitea_domain}/ (the operators' proxy serves it over HTTPS). */
  gitea_root_url: httpUrl.optional(),
  /** Gitea's SSH_DOMAIN, the host SSH clone URLs name; unset: gitea_domain. */
  gitea_ssh_domain: hostName.optional(),
  /** n8n's N8N_HOST: the host name it is reached at. */
  n8n_host: hostName.default('n8n.vibe.yourdomain.com'),
  /**
   * n8n's N8N_PROTOCOL: the protocol its users reach it with (the proxy terminates TLS; n8n itself
   * serves HTTPS only when given N8N_SSL_KEY and N8N_SSL_CERT, which the stack does not set).
   */
  n8n_protocol: z.enum(['http', 'https']).default('https'),
  /** n8n's WEBHOOK_URL, what it registers with other services; unset: {n8n_protocol}://{n8n_host}/. */
  n8n_webhook_url: httpUrl.optional(),
});

export type AppSettings = z.output<typeof appSettingsVars>;

/** The ${VAR}s the stack files read these from (stacks/data.yml, stacks/gateway.yml). */
export function appSettingsEnv(v: AppSettings): Record<string, string> {
  return {
    GITEA_DOMAIN: v.gitea_domain,
    GITEA_ROOT_URL: v.gitea_root_url ?? `https://${v.gitea_domain}/`,
    GITEA_SSH_DOMAIN: v.gitea_ssh_domain ?? v.gitea_domain,
    N8N_HOST: v.n8n_host,
    N8N_PROTOCOL: v.n8n_protocol,
    N8N_WEBHOOK_URL: v.n8n_webhook_url ?? `${v.n8n_protocol}://${v.n8n_host}/`,
  };
}
