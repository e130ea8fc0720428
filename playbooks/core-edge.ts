// The Core/Edge layout with Docker Compose (two VMs): the compose and env
// files checked first (a missing one stops the run before any host
// changes), both hosts bootstrapped (Docker and Compose, UFW: SSH and the
// public ports from anywhere, Core's ports from Edge only), then Core's
// project and Edge's, each pulled, brought up and waited on until healthy.
//   npx tsx playbooks/core-edge.ts -i inventory/core-edge.yml [--check] [--diff]
import { definePlay, facts, runPlaybook } from 'rigger-ops';
import { composeHost } from '../roles/compose-host/index.ts';
import { composeFilesPresent, composeProjects } from '../roles/compose-projects/index.ts';
import { docker } from '../roles/docker/index.ts';

await runPlaybook([
  definePlay({ name: 'compose files', hosts: 'core:edge', roles: [composeFilesPresent], haltOnFailure: true }),
  definePlay({ name: 'bootstrap', hosts: 'core:edge', roles: [docker, composeHost], facts: [facts.osRelease] }),
  definePlay({ name: 'core', hosts: 'core', roles: [composeProjects] }),
  definePlay({ name: 'edge', hosts: 'edge', roles: [composeProjects] }),
]);
