// Cluster health: every service at its replica count, then the HTTP health
// endpoints of the inventory's health_checks, with bounded retries (and an
// unhealthy service with a healthcheck waited on for its health window, even
// with health_retries=0). Prints a per-service table; exits non-zero when
// anything is unhealthy.
//   npx tsx playbooks/health.ts [-i inventory] [-e health_retries=0]
import { runPlaybook } from 'rigger-ops';
import { healthTable, type ServiceHealth } from 'rigger-ops/lib/ops/docker/health';
import { CLUSTER_PLAYS } from './cluster.ts';

await runPlaybook([CLUSTER_PLAYS.health()], {
  report: (rows) => {
    const last = rows.filter((r) => r.task.name === 'services healthy' && Array.isArray(r.outcome.result)).at(-1);
    if (!last) return 'no health read: see the errors above';
    return healthTable(last.outcome.result as ServiceHealth[]);
  },
});
