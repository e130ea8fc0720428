// A health-gated update of one service (or several, in one run) to a new
// image: pre-checks on the nodes that run it, the image pulled on each node
// its placement allows (while the pull makes progress), the tag pinned to its digest,
// the update with the service's order (start-first only with a health check
// and no host-mode port), the inventory's HTTP checks with bounded retries;
// on any failure every service of the run is rolled back and the run fails.
//   npx tsx playbooks/deploy.ts SERVICE --image REF [--check --diff]
//   npx tsx playbooks/deploy.ts SERVICE=REF [SERVICE=REF ...]
//   npx tsx playbooks/deploy.ts --stack NAME   (every service the stack's file changed, gated the same way)
//   npx tsx playbooks/deploy.ts --history
import { definePlay, InputError, runPlaybook } from 'rigger-ops';
import { stacks } from '../roles/stacks/index.ts';
import { checkStackOrder } from '../roles/stacks/order.ts';
import { historyPlay, historyReport, precheckPlay, pullPlay, rolloutPlay } from './deploy-plays.ts';

const usage = `Usage: npx tsx playbooks/deploy.ts SERVICE --image REF [flags]
       npx tsx playbooks/deploy.ts SERVICE=REF [SERVICE=REF ...] [flags]
       npx tsx playbooks/deploy.ts --stack NAME [flags]
       npx tsx playbooks/deploy.ts --history`;

let showHistory = false;

await runPlaybook(
  (opts, context) => {
    if (opts.flags.history) {
      showHistory = true;
      return [historyPlay()];
    }
    if (typeof opts.flags.stack === 'string') {
      if (opts.positionals.length) throw new InputError('command line', '--stack deploys a whole stack: name no services with it');
      checkStackOrder(context);
      // The stacks role on that stack alone: its services' changes are waited for, health-gated, and rolled back together.
      // On every swarm node, as site.ts's stacks play: each pulls the stack's images it may run first.
      return [definePlay({ name: `stack ${opts.flags.stack}`, hosts: 'managers:workers', roles: [stacks], anyErrorsFatal: true, vars: { stacks_only: [opts.flags.stack] } })];
    }
    const image = opts.flags.image;
    const targets = opts.positionals.map((arg) => {
      const eq = arg.indexOf('=');
      if (eq > 0) return { name: arg.slice(0, eq), image: arg.slice(eq + 1) };
      if (typeof image !== 'string') throw new InputError('command line', `${arg}: give its image with --image REF, or write ${arg}=REF`);
      return { name: arg, image };
    });
    if (targets.length === 0) throw new InputError('command line', 'name a service to deploy (SERVICE --image REF), or --history');
    if (typeof image === 'string' && opts.positionals.filter((a) => !a.includes('=')).length > 1) throw new InputError('command line', '--image goes with one service; write SERVICE=REF for several');
    return [precheckPlay(targets.map((t) => t.name)), pullPlay(targets), rolloutPlay('deploy', () => targets)];
  },
  {
    usage,
    allowPositionals: true,
    flags: { image: { type: 'string' }, stack: { type: 'string' }, history: { type: 'boolean' } },
    report: (rows) => (showHistory ? historyReport(rows) : ''),
  },
);
