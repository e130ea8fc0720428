import { defineRole, ops, z } from 'rigger-ops';
import { allHealthy, healthCheckSchema, type ServiceHealth } from 'rigger-ops/lib/ops/docker/health';
import { healthWindowsSchema, stillWaiting, windowOf, type HealthWindows } from 'rigger-ops/lib/ops/docker/health-window';
import { firstManager } from '../common.ts';

export const healthDefaults = z.object({
  /** HTTP endpoints: a service, its published port and path (SGLang /health, Gitea /api/v1/version, ...). */
  health_checks: z.array(healthCheckSchema).default([]),
  /** Bounded retries while services start: attempts after the first, and seconds between them. */
  health_retries: z.number().int().min(0).default(20),
  health_delay_seconds: z.number().min(0).default(3),
  /** Per service, seconds: overrides the window its healthcheck gives (start_period + retries x interval). */
  health_windows: healthWindowsSchema,
});

/** The longest a wait may last, in attempts: past it even an override's window (at most a day) is over. */
const attemptsCap = (retries: number, delaySeconds: number) => retries + Math.ceil(86_400 / Math.max(delaySeconds, 0.1));

/** The unhealthy services, each with its window (its healthcheck's, or the inventory's override). */
const unhealthyWithWindows = (rows: ServiceHealth[], overrides: HealthWindows) => rows.filter((r) => !r.healthy).map((r) => ({ service: r.service, window: windowOf(r.service, r.window, overrides) }));

/**
 * Every service at its replica count and every HTTP check answering, with
 * bounded retries: health_retries for every service, and for a service with
 * a healthcheck at least its window (SGLang's 150 s), so a slow starter is
 * not failed early and a broken one without a healthcheck fails as soon as before.
 */
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
        retries: (h) => attemptsCap(h.vars.health_retries, h.vars.health_delay_seconds),
        delaySeconds: (h) => h.vars.health_delay_seconds,
        until: (rows) => allHealthy(rows),
        // No reading (the services could not be listed): the fixed retries alone, as before windows.
        giveUpWhen: (rows, h, t) => (rows ? !stillWaiting(unhealthyWithWindows(rows, h.vars.health_windows), t.attempts, h.vars.health_retries, t.elapsedSeconds) : t.attempts > h.vars.health_retries),
        failedWhen: (rows) => !allHealthy(rows),
      }),
    ],
  }),
});
