// An operator's scale, kept: the operators' fallback when the GPU is busy
// (000, 5.4: SGLang to 0, Ollama to 1) recorded on each service as
// rigger.scale.* labels (who, when, why), so site.ts keeps it and the daily
// check reports it as intended, until --clear puts the stack files' replicas back.
//   npx tsx playbooks/scale.ts SERVICE=N [SERVICE=N ...] --reason TEXT [--check --diff]
//   npx tsx playbooks/scale.ts --clear [SERVICE ...]   (no SERVICE: every recorded scale)
//   npx tsx playbooks/scale.ts                          (list the recorded scales)
import { definePlay, ops, runPlaybook } from 'rigger-ops';
import type { ListedOverride } from 'rigger-ops/lib/ops/docker/scale-list';
import { alignColumns } from 'rigger-ops/lib/shell/columns';
import { deployer, onFirstManager } from '../roles/common.ts';
import { stacksDefaults } from '../roles/stacks/index.ts';
import { stackServices, stackServiceVars } from '../roles/stacks/services.ts';
import { checkServices, parseScaleArgs } from './scale-args.ts';

const usage = `Usage: npx tsx playbooks/scale.ts SERVICE=N [SERVICE=N ...] --reason TEXT [flags]
       npx tsx playbooks/scale.ts --clear [SERVICE ...] [flags]
       npx tsx playbooks/scale.ts [flags]   (list the recorded scales)`;

const schema = stacksDefaults.pick({ stack_timeout_seconds: true, health_windows: true });
let listing = false;

function listReport(rows: ListedOverride[]): string {
  if (rows.length === 0) return 'no service is scaled by an operator';
  return alignColumns([['service', 'replicas', 'by', 'since', 'reason'], ...rows.map((r) => [r.service, String(r.replicas), r.by, r.since, r.reason])]);
}

await runPlaybook(
  (opts, ctx) => {
    const request = parseScaleArgs(opts.positionals, opts.flags);
    const known = stackServices(stackServiceVars(ctx));
    if (request.kind === 'list') {
      listing = true;
      return [definePlay({ name: 'operator scales', hosts: 'managers', tasks: ({ task }) => [task({ name: 'operator scales', ...onFirstManager('the swarm is read'), op: () => ops.docker.scaleOverrides({}) })] })];
    }
    // --clear alone: every replicated service of the stacks, each back to its file's count where a scale is recorded.
    const targets =
      request.kind === 'set'
        ? checkServices(request.targets.map((t) => t.service), known).map((k, i) => ({ service: k.name, replicas: request.targets[i]!.replicas, clear: false }))
        : (request.services.length ? checkServices(request.services, known) : known.filter((k) => !k.global)).map((k) => ({ service: k.name, replicas: k.replicas, clear: true }));
    const name = request.kind === 'set' ? `scale ${request.targets.map((t) => `${t.service}=${t.replicas}`).join(' ')}` : 'clear operator scales';
    return [
      definePlay({
        name,
        hosts: 'managers',
        schema,
        tasks: ({ task }) => [
          task({
            name,
            ...onFirstManager('services are scaled'),
            op: (h) => ops.docker.scale({ targets, reason: request.kind === 'set' ? request.reason : '', by: deployer(), timeoutSeconds: h.vars.stack_timeout_seconds, healthWindows: h.vars.health_windows }),
          }),
        ],
      }),
    ];
  },
  {
    usage,
    allowPositionals: true,
    flags: { reason: { type: 'string' }, clear: { type: 'boolean' } },
    report: (rows) => {
      if (!listing) return '';
      const row = rows.find((r) => r.task.name === 'operator scales' && Array.isArray(r.outcome.result));
      return row ? listReport(row.outcome.result as ListedOverride[]) : '';
    },
  },
);
