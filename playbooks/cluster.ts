// The cluster's plays, one per role, in the site playbook's order. site.ts
// runs them all (sitePlays: the stacks split around the databases); role.ts
// runs one of them on the same hosts.
import { definePlay, facts, type Play, type PlayOptions } from 'rigger-ops';
import type { PlaybookContext } from 'rigger-ops/lib/runner/playbook-context';
import { base } from '../roles/base/index.ts';
import { databases, databasesDefaults } from '../roles/databases/index.ts';
import { stacksAroundDatabases } from '../roles/stacks/database-order.ts';
import { docker } from '../roles/docker/index.ts';
import { health } from '../roles/health/index.ts';
import { monitoring } from '../roles/monitoring/index.ts';
import { networks } from '../roles/networks/index.ts';
import { nfs } from '../roles/nfs/index.ts';
import { nvidia } from '../roles/nvidia/index.ts';
import { publishedPorts } from '../roles/published-ports/index.ts';
import { stacks } from '../roles/stacks/index.ts';
import { pitrArchiveConverge } from '../roles/pitr/index.ts';
import { pitrConfigIfAny } from './pitr-plays.ts';
import { swarm } from '../roles/swarm/index.ts';

/** Play options a caller adds (a recovery halts the run on a failure). */
type Extra = Pick<PlayOptions<any>, 'haltOnFailure'>;
/** The stacks play's extras: sitePlays names its two halves and gives each its part of the list. */
type StacksExtra = Extra & Partial<Pick<PlayOptions<any>, 'name' | 'vars'>>;

/** Role name -> the hosts it runs on. Swarm-wide steps pick the first manager inside the role. */
export const CLUSTER_PLAYS = {
  base: (o: Extra = {}) => definePlay({ name: 'base', hosts: 'all', roles: [base], facts: [facts.osRelease], ...o }),
  docker: (o: Extra = {}) => definePlay({ name: 'docker', hosts: 'all', roles: [docker], facts: [facts.osRelease], ...o }),
  nvidia: (o: Extra = {}) => definePlay({ name: 'nvidia', hosts: 'all', roles: [nvidia], facts: [facts.gpu], ...o }),
  // The published ports' from limits go in with the swarm, before a stack publishes a port.
  swarm: (o: Extra = {}) => definePlay({ name: 'swarm', hosts: 'managers:workers', roles: [swarm, publishedPorts], ...o }),
  networks: (o: Extra = {}) => definePlay({ name: 'networks', hosts: 'managers', roles: [networks], ...o }),
  nfs: (o: Extra = {}) => definePlay({ name: 'nfs', hosts: 'all', roles: [nfs], ...o }),
  // Every swarm node: each pulls the images it may run (the role's first task) before the first manager deploys;
  // a pull that failed on any node stops the play there, so Swarm is not left to pull it within its fixed wait.
  stacks: (o: StacksExtra = {}) => definePlay({ name: 'stacks', hosts: 'managers:workers', roles: [stacks], anyErrorsFatal: true, ...o }),
  databases: (o: Extra = {}) => definePlay({ name: 'databases', hosts: 'all', roles: [databases], ...o }),
  // Before health: the inventory's health checks may name its services (the real cluster's Grafana).
  // Every node: Promtail's configuration is bind-mounted where its global tasks run; the rest is the first manager's.
  monitoring: (o: Extra = {}) => definePlay({ name: 'monitoring', hosts: 'managers:workers', roles: [monitoring], ...o }),
  health: (o: Extra = {}) => definePlay({ name: 'health', hosts: 'managers', roles: [health], ...o }),
} satisfies Record<string, (o?: StacksExtra) => Play>;

export type ClusterRole = keyof typeof CLUSTER_PLAYS;
export const CLUSTER_ROLES = Object.keys(CLUSTER_PLAYS) as ClusterRole[];

/**
 * The site playbook's plays: every role in CLUSTER_ROLES' order, except that
 * the stacks after the one running the databases' PostgreSQL are deployed
 * after the databases play (roles/stacks/database-order.ts says why), by a
 * second stacks play limited to them (stacks_only), so an application with
 * a healthcheck finds its database on the first run. With postgres_pitr,
 * last, point-in-time archiving (pitrPlay).
 */
export function sitePlays(ctx: PlaybookContext): Play[] {
  return [...clusterPlays(ctx), ...pitrPlay(ctx)];
}

/**
 * postgres_pitr declares WAL archiving: a converge leaves it running (the
 * daily check reads its slot) rather than waiting for the nightly
 * backup.ts. After health, on its two hosts only: the database is up, and a
 * failure here keeps no other role from converging. Its base backup is
 * taken only when none of this cluster is archived (roles/pitr).
 */
function pitrPlay(ctx: PlaybookContext): Play[] {
  const c = pitrConfigIfAny(ctx);
  return c ? [definePlay({ name: 'pitr', hosts: `${c.database_host}:${c.archive_host}`, roles: [pitrArchiveConverge] })] : [];
}

function clusterPlays(ctx: PlaybookContext): Play[] {
  const manager = ctx.inventory.hostsOf('managers')[0];
  const listed = manager ? ctx.hostVars(manager).stacks : undefined;
  // The PostgreSQL service of every host that makes databases (the databases role runs on each host listing app_databases).
  const servers = ctx.inventory.hostNames().flatMap((h) => {
    const v = ctx.hostVars(h);
    if (!Array.isArray(v.app_databases) || v.app_databases.length === 0) return [];
    return [typeof v.app_databases_service === 'string' ? v.app_databases_service : databasesDefaults.shape.app_databases_service.parse(undefined)];
  });
  const split = Array.isArray(listed) ? stacksAroundDatabases(listed as { name: string }[], servers) : undefined;
  if (!split) return CLUSTER_ROLES.map((r) => CLUSTER_PLAYS[r]());
  // The same play as CLUSTER_PLAYS.stacks (every node pulls its images first, a failed pull stops the deploy), on part of the list.
  const stacksOnly = (name: string, only: string[]) => CLUSTER_PLAYS.stacks({ name, vars: { stacks_only: only } });
  return CLUSTER_ROLES.flatMap((r) => {
    if (r === 'stacks') return [stacksOnly('stacks', split.first)];
    if (r === 'databases') return [CLUSTER_PLAYS.databases(), stacksOnly('stacks after the databases', split.after)];
    return [CLUSTER_PLAYS[r]()];
  });
}
