// One role of the site playbook, on the hosts the site playbook runs it on,
// with the same flags:
//   npx tsx playbooks/role.ts ROLE [-i inventory] [--check] [--limit PATTERN] ...
//   e.g. npx tsx playbooks/role.ts nvidia --limit ai
import { InputError, runPlaybook } from 'rigger-ops';
import { CLUSTER_PLAYS, CLUSTER_ROLES, type ClusterRole } from './cluster.ts';
import { checkStackOrder } from '../roles/stacks/order.ts';

const usage = `Usage: npx tsx playbooks/role.ts ROLE [flags]\nRoles: ${CLUSTER_ROLES.join(', ')}`;

await runPlaybook(
  (opts, context) => {
    const [name, ...extra] = opts.positionals;
    if (!name) throw new InputError('command line', `name a role: ${CLUSTER_ROLES.join(', ')}`);
    if (extra.length) throw new InputError('command line', `one role at a time; got ${[name, ...extra].join(' ')}`);
    if (!(name in CLUSTER_PLAYS)) throw new InputError('command line', `no role ${JSON.stringify(name)}; roles: ${CLUSTER_ROLES.join(', ')}`);
    if (name === 'stacks') checkStackOrder(context);
    return [CLUSTER_PLAYS[name as ClusterRole]()];
  },
  { usage, allowPositionals: true },
);
