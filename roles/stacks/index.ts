import { defineRole, ops, Secret, z } from 'rigger-ops';
import { healthCheckSchema } from 'rigger-ops/lib/ops/docker/health';
import { healthWindowsSchema } from 'rigger-ops/lib/ops/docker/health-window';
import { deployer, onFirstManager } from '../common.ts';
import { stackEnv } from './read.ts';
import { appSettingsVars } from './app-settings.ts';
import { imagesFor, inRunRegistryImages, inventoryServices, namedNodes, nodeOf } from './pulls.ts';

export { stackEnv };

const stackSpec = z
  .object({
    name: z.string(),
    /** The compose file, relative to the project's root (stacks/NAME.yml). */
    file: z.string(),
    /** Values for ${VAR} in the compose file. */
    env: z.record(z.string(), z.string()).default({}),
    prune: z.boolean().default(false),
  })
  .strict();

export const stacksDefaults = z.object({
  stacks: z.array(stackSpec).default([]),
  /** Swarm secrets the stacks use (external: true in their compose files): !vault values only. */
  stack_secrets: z.record(z.string(), z.instanceof(Secret, { message: 'a stack secret must be a !vault value, never plain text' })).default({}),
  /** vip in a real swarm; dnsrr where the kernel has no IPVS (the lab). Given to compose files as ${ENDPOINT_MODE}. */
  service_endpoint_mode: z.enum(['vip', 'dnsrr']).default('vip'),
  /** ingress (the routing mesh) or host. Given to compose files as ${PUBLISH_MODE}. */
  service_publish_mode: z.enum(['ingress', 'host']).default('ingress'),
  /** Image references to replace in every compose file (real -> substitute): the lab's rehearsal maps each real image to its stand-in. */
  stack_images: z.record(z.string(), z.string()).default({}),
  /** The convergence wait; longer for a stack with a service whose health window is (lib/ops/docker/health-window.ts). */
  stack_timeout_seconds: z.number().int().min(1).default(300),
  /** Per service, seconds: overrides the window its healthcheck gives (start_period + retries x interval). */
  health_windows: healthWindowsSchema,
  /** The HTTP checks that gate the restart of services when a secret they use is rotated (the health role reads them too). */
  health_checks: z.array(healthCheckSchema).default([]),
  /** Health retries after a deploy changed services: attempts after the first, and seconds between them. */
  stack_health_retries: z.number().int().min(0).default(10),
  stack_health_delay_seconds: z.number().min(0).default(3),
  /**
   * Before a deploy, each swarm node pulls the images it may run; a pull lasts as long as bytes keep
   * arriving and fails after this many seconds without progress (lib/ops/docker/image-pull.ts).
   */
  image_pull_stall_seconds: z.number().int().min(1).default(120),
  /** Deploy only these stacks of `stacks` (deploy.ts --stack NAME); empty: all. */
  stacks_only: z.array(z.string()).default([]),
  // Gitea's and n8n's public names (app-settings.ts), given to every stack file as ${VAR}s.
  ...appSettingsVars.shape,
});

/**
 * The stacks: on every swarm node, the images its placement lets it run,
 * pulled while they make progress; then their swarm secrets, and `docker
 * stack deploy` of each compose file from the first manager, deciding
 * changes from recorded and live service specs, and waiting for every
 * service's replicas (a wait that no longer includes a pull). The play runs
 * on managers and workers: each task runs on every host before the next
 * (the runner's linear strategy), so every pull has ended before the deploy.
 */
export const stacks = defineRole({
  name: 'stacks',
  defaults: stacksDefaults,
  build: ({ task }) => {
    const onManager = onFirstManager('stacks are deployed');
    return {
      tasks: [
        task({
          name: 'images pulled',
          op: (h) => {
            const node = nodeOf(h);
            const images = node ? imagesFor(node, inventoryServices(h.vars)) : [];
            const inRun = images.length ? inRunRegistryImages(h.vars, namedNodes(h)) : new Map<string, string>();
            return ops.docker.imagePull({ images, stallSeconds: h.vars.image_pull_stall_seconds, node: h.name, bestEffort: Object.fromEntries([...inRun].filter(([i]) => images.includes(i))) });
          },
        }),
        task({
          name: 'stack secrets',
          ...onManager,
          op: (h) =>
            ops.each(
              'stack secrets',
              Object.entries(h.vars.stack_secrets).map(([name, value]) => ops.docker.secret({ name, value, checks: h.vars.health_checks, timeoutSeconds: h.vars.stack_timeout_seconds, healthWindows: h.vars.health_windows, user: deployer() })),
            ),
        }),
        task({
          name: 'stacks deployed',
          ...onManager,
          op: (h) =>
            ops.each(
              'stacks',
              h.vars.stacks.filter((s) => h.vars.stacks_only.length === 0 || h.vars.stacks_only.includes(s.name)).map((s) =>
                ops.docker.stack({
                  name: s.name,
                  file: s.file,
                  env: stackEnv(h.vars, s),
                  prune: s.prune,
                  images: h.vars.stack_images,
                  timeoutSeconds: h.vars.stack_timeout_seconds,
                  checks: h.vars.health_checks,
                  healthRetries: h.vars.stack_health_retries,
                  healthDelaySeconds: h.vars.stack_health_delay_seconds,
                  healthWindows: h.vars.health_windows,
                  user: deployer(),
                }),
              ),
            ),
        }),
      ],
    };
  },
});
