import { defineRole, ops, z } from 'rigger-ops';
import { allHealthy, healthCheckSchema } from 'rigger-ops/lib/ops/docker/health';
import { firstManager } from '../common.ts';

export const healthDefaults = z.object({
  /** HTTP endpoints: a service, its published port and path (SGLang /health, Gitea /api/v1/version, ...). */
  health_checks: z.array(healthCheckSchema).default([]),
  /** Bounded retries while services start: attempts after the first, and seconds between them. */
  health_retries: z.number().int().min(0).default(20),
  health_delay_seconds: z.number().min(0).default(3),
});

/** Every service at its replica count and every HTTP check answering, with bounded retries. */
export const health = defineRole({
  name: 'health',
  defaults: healthDefaults,
  build: ({ task }) => ({
    tasks: [
      task({
        name: 'services healthy',
        when: (h) => h.name === firstManager(h) && !h.check,
        whenReason: (h) => (h.check ? 'check mode deploys nothing, so there is no new health to read' : 'health is read on the first manager'),
        op: (h) => ops.docker.serviceHealth({ checks: h.vars.health_checks }),
        retries: (h) => h.vars.health_retries,
        delaySeconds: (h) => h.vars.health_delay_seconds,
        until: (rows) => allHealthy(rows),
        failedWhen: (rows) => !allHealthy(rows),
      }),
    ],
  }),
});
