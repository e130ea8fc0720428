// The whole cluster, in order: base, docker, nvidia, swarm, networks, nfs,
// stacks (up to the one running PostgreSQL), databases, the stacks after it,
// monitoring, health, and with postgres_pitr point-in-time archiving
// (playbooks/cluster.ts, sitePlays). Idempotent: a second run reports changed=0.
//   npx tsx playbooks/site.ts [-i inventory] [--check] [--diff] [--limit PATTERN] ...
import { runPlaybook } from 'rigger-ops';
import { sitePlays } from './cluster.ts';
import { checkStackOrder } from '../roles/stacks/order.ts';

// A stacks list that deploys a stack before the registry its images come from is refused before any host is contacted.
await runPlaybook((_opts, context) => {
  checkStackOrder(context);
  return sitePlays(context);
});
