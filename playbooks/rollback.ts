// Back to the image a service ran before its last good deploy (or the N-th
// before, from the run log on the first manager), health-gated like a deploy.
//   npx tsx playbooks/rollback.ts SERVICE [--to N] [--check --diff]
import { InputError, runPlaybook } from 'rigger-ops';
import { previousImage } from 'rigger-ops/lib/ops/docker/rollout/rollout';
import { precheckPlay, rolloutPlay } from './deploy-plays.ts';

const usage = 'Usage: npx tsx playbooks/rollback.ts SERVICE [--to N] [flags]';

await runPlaybook(
  (opts) => {
    const [service, ...extra] = opts.positionals;
    if (!service || extra.length) throw new InputError('command line', 'name one service to roll back');
    const n = opts.flags.to === undefined ? 1 : Number(opts.flags.to);
    if (!Number.isInteger(n) || n < 1) throw new InputError('command line', `--to takes a whole number from 1 (the previous deploy); got ${String(opts.flags.to)}`);
    return [
      precheckPlay([service]),
      rolloutPlay('rollback', (h, history) => {
        const records = h.result(history) ?? [];
        const image = previousImage(records, service, n);
        if (!image) throw new InputError('command line', `the run log records ${records.length ? 'fewer' : 'no'} good deploys of ${service} than --to ${n} needs`);
        return [{ name: service, image }];
      }),
    ];
  },
  { usage, allowPositionals: true, flags: { to: { type: 'string' } } },
);
