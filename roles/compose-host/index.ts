import { defineRole, handler, ops, z } from 'rigger-ops';
import { sshLogin as connection } from 'rigger-ops/lib/cli/connection';
import { DOCKER_USER_MARKER, dockerUserRules, UFW_AFTER_RULES } from 'rigger-ops/lib/ops/firewall/docker-user';

const port = z.number().int().min(1).max(65535);

export const composeHostDefaults = z.object({
  /** Open to everyone besides SSH: the public web ports. */
  compose_public_ports: z.array(port).default([80, 443]),
  /** Ports this host's containers publish for the private peers only (Core's PostgreSQL, Redis, MinIO, OTLP). */
  compose_private_ports: z.array(port).default([]),
  /** The inventory group whose hosts (their ansible_host) may reach the private ports. */
  compose_private_from: z.string().default('edge'),
});

export const AFTER_RULES = UFW_AFTER_RULES;

/**
 * The private ports' DOCKER-USER block (lib/ops/firewall/docker-user.ts says
 * why Docker's published ports need it): UFW loads it with its after.rules,
 * so the rules live and die with UFW. Containers talking to each other over
 * Docker's bridges (br-*, docker0) pass through FORWARD too: left alone.
 */
export const privatePortRules = (ports: number[], peers: string[]): string =>
  dockerUserRules(
    ports.map((port) => ({ port, proto: 'tcp' as const, from: peers })),
    ['docker0', 'br-+'],
  );

const reloadUfw = handler({ name: 'reload ufw', op: ops.command({ argv: ['ufw', 'reload'] }) });

/** UFW on a Compose host: SSH, the public ports from anywhere, the private ports from the peers only (Docker's published ports too). */
export const composeHost = defineRole({
  name: 'compose-host',
  defaults: composeHostDefaults,
  build: ({ task }) => {
    const peers = (h: { groupHosts(g: string): readonly string[]; hostVars(n: string): Readonly<Record<string, unknown>>; vars: { compose_private_from: string } }) =>
      h.groupHosts(h.vars.compose_private_from).map((n) => String(h.hostVars(n).ansible_host ?? n));
    return {
      tasks: [
        task({ name: 'ufw package', op: ops.apt.packages({ names: ['ufw'], updateCache: true }) }),
        task({
          name: 'published private ports only for the peers (DOCKER-USER)',
          op: (h) => ops.block({ path: AFTER_RULES, block: privatePortRules(h.vars.compose_private_ports, peers(h)), marker: DOCKER_USER_MARKER }),
          notify: [reloadUfw],
        }),
        task({
          name: 'ufw rules',
          op: (h) =>
            ops.firewall({
              backend: 'ufw',
              sshPort: connection(h.allVars).port,
              rules: [
                ...h.vars.compose_public_ports.map((p) => ({ port: p, proto: 'tcp' as const, comment: 'public' })),
                ...h.vars.compose_private_ports.flatMap((p) => peers(h).map((from) => ({ port: p, proto: 'tcp' as const, from, comment: `private from ${h.vars.compose_private_from}` }))),
              ],
            }),
        }),
      ],
      handlers: [reloadUfw],
    };
  },
});
