// The cluster's plays, one per role, in the site playbook's order. site.ts
// runs them all; role.ts runs one of them on the same hosts.
import { definePlay, facts, type Play } from '../lib/index.ts';
import { base } from '../roles/base/index.ts';
import { docker } from '../roles/docker/index.ts';
import { health } from '../roles/health/index.ts';
import { networks } from '../roles/networks/index.ts';
import { nfs } from '../roles/nfs/index.ts';
import { nvidia } from '../roles/nvidia/index.ts';
import { stacks } from '../roles/stacks/index.ts';
import { swarm } from '../roles/swarm/index.ts';

/** Role name -> the hosts it runs on. Swarm-wide steps pick the first manager inside the role. */
export const CLUSTER_PLAYS = {
  base: () => definePlay({ name: 'base', hosts: 'all', roles: [base], facts: [facts.osRelease] }),
  docker: () => definePlay({ name: 'docker', hosts: 'all', roles: [docker], facts: [facts.osRelease] }),
  nvidia: () => definePlay({ name: 'nvidia', hosts: 'all', roles: [nvidia], facts: [facts.gpu] }),
  swarm: () => definePlay({ name: 'swarm', hosts: 'managers:workers', roles: [swarm] }),
  networks: () => definePlay({ name: 'networks', hosts: 'managers', roles: [networks] }),
  nfs: () => definePlay({ name: 'nfs', hosts: 'all', roles: [nfs] }),
  stacks: () => definePlay({ name: 'stacks', hosts: 'managers', roles: [stacks] }),
  health: () => definePlay({ name: 'health', hosts: 'managers', roles: [health] }),
} satisfies Record<string, () => Play>;

export type ClusterRole = keyof typeof CLUSTER_PLAYS;
export const CLUSTER_ROLES = Object.keys(CLUSTER_PLAYS) as ClusterRole[];
