// The plays deploy.ts and rollback.ts share: the operators' pre-checks on
// the nodes that run the services, the new images pulled on the nodes that
// may run them (deploy.ts), then the health-gated rollout on the first
// manager (lib/ops/docker/rollout/health-gated.ts).
import { definePlay, ops, z, type Play, type HostContext, type Task } from 'rigger-ops';
import { healthCheckSchema } from 'rigger-ops/lib/ops/docker/health';
import { healthWindowsSchema } from 'rigger-ops/lib/ops/docker/health-window';
import { historyTable, type DeployRecord } from 'rigger-ops/lib/ops/docker/rollout/rollout';
import type { OutcomeRow } from 'rigger-ops/lib/cli/main';
import { alignColumns } from 'rigger-ops/lib/shell/columns';
import { deployer, onFirstManager } from '../roles/common.ts';
import { stacksDefaults } from '../roles/stacks/index.ts';
import { inventoryServices, nodeOf, targetImagesFor } from '../roles/stacks/pulls.ts';
import { appSettingsVars } from '../roles/stacks/app-settings.ts';

const schema = z.object({
  health_checks: z.array(healthCheckSchema).default([]),
  /**
   * Bounded health retries after an update: attempts after the first, and seconds between them; a service
   * with a healthcheck is waited on for at least its window (health_windows overrides it).
   */
  deploy_health_retries: z.number().int().min(0).default(10),
  deploy_health_delay_seconds: z.number().min(0).default(3),
  deploy_timeout_seconds: z.number().int().min(1).default(300),
  health_windows: healthWindowsSchema,
  deploy_max_disk_percent: z.number().default(85),
  deploy_min_free_mem_mb: z.number().default(1024),
});

export function precheckPlay(services: string[]): Play {
  return definePlay({
    name: 'deploy pre-checks',
    hosts: 'managers:workers',
    schema,
    tasks: ({ task }) => [
      task({
        name: 'room on the nodes that run it',
        op: (h) => ops.docker.deployPrecheck({ services, maxDiskPercent: h.vars.deploy_max_disk_percent, minFreeMemMb: h.vars.deploy_min_free_mem_mb }),
      }),
    ],
  });
}

type Target = { name: string; image: string };

/**
 * Each target's image pulled, while the pull makes progress, on every swarm
 * node the service's placement in the inventory's stacks allows, so the
 * rollout's wait (deploy_timeout_seconds) no longer includes a pull. Its own
 * play, so every node's pull has ended before the manager updates anything.
 */
export function pullPlay(targets: Target[]): Play {
  return definePlay({
    name: 'deploy pulls',
    hosts: 'managers:workers',
    // A pull that failed on any node ends the run before the rollout.
    haltOnFailure: true,
    // The stacks role's variables that say which services run where, and nothing it needs a vault for.
    schema: stacksDefaults.pick({ stacks: true, stack_images: true, service_endpoint_mode: true, service_publish_mode: true, image_pull_stall_seconds: true }).extend(appSettingsVars.shape),
    tasks: ({ task }) => [
      task({
        name: 'images pulled',
        op: (h) => {
          const node = nodeOf(h);
          return ops.docker.imagePull({ images: node ? targetImagesFor(node, inventoryServices({ ...h.vars, stacks_only: [] }), targets) : [], stallSeconds: h.vars.image_pull_stall_seconds, node: h.name });
        },
      }),
    ],
  });
}

/** The rollout; `targets` may depend on an earlier task's result on the manager (rollback reads the run log first). */
export function rolloutPlay(action: string, targets: (h: HostContext<z.output<typeof schema>>, history: Task<DeployRecord[]>) => Target[]): Play {
  return definePlay({
    name: action,
    hosts: 'managers',
    schema,
    // A pre-check failure on any node stops the run before the manager changes anything.
    anyErrorsFatal: true,
    tasks: ({ task }) => {
      const history = task({ name: 'deploy history', ...onFirstManager('the run log lives'), op: () => ops.docker.deployHistory({}) });
      return [
        history,
        task({
          name: `${action} health-gated`,
          ...onFirstManager('services are updated'),
          op: (h) =>
            ops.docker.deploy({
              services: targets(h, history),
              checks: h.vars.health_checks,
              retries: h.vars.deploy_health_retries,
              delaySeconds: h.vars.deploy_health_delay_seconds,
              timeoutSeconds: h.vars.deploy_timeout_seconds,
              healthWindows: h.vars.health_windows,
              user: deployer(),
              action,
            }),
        }),
      ];
    },
  });
}

export function historyPlay(): Play {
  return definePlay({
    name: 'deploy history',
    hosts: 'managers',
    tasks: ({ task }) => [task({ name: 'deploy history', ...onFirstManager('the run log lives'), op: () => ops.docker.deployHistory({}) })],
  });
}

/** The run log as a table (deploy.ts --history). */
export function historyReport(rows: OutcomeRow[]): string {
  const read = rows.find((r) => r.task.name === 'deploy history' && Array.isArray(r.outcome.result));
  if (!read) return 'no run log read: see the errors above';
  const records = read.outcome.result as DeployRecord[];
  if (records.length === 0) return 'no deploys recorded yet';
  return alignColumns([['when', 'who', 'action', 'outcome', 'services', 'problem'], ...historyTable(records)]);
}
