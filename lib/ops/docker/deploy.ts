import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { gatedRollout, type RolloutResult, type ServiceChange } from './rollout/health-gated.ts';
import { digestOf, pinImage, shortImage, updateOrder, type SpecForOrder } from './rollout/rollout.ts';
import { healthCheckSchema } from './health.ts';
import { healthWindowsSchema, specHealthWindow, windowOf, type HealthWindows } from './health-window.ts';

const schema = z
  .object({
    /** Each service and the image reference it should run (a tag is resolved to its digest once, here). */
    services: z.array(z.object({ name: z.string().min(1), image: z.string().min(1) }).strict()).min(1),
    /** The inventory's HTTP checks; those of the deployed services gate the rollout. */
    checks: z.array(healthCheckSchema).default([]),
    retries: z.number().int().min(0).default(10),
    delaySeconds: z.number().min(0).default(3),
    timeoutSeconds: z.number().int().min(1).default(300),
    /** The inventory's health_windows: a service is waited on for at least its healthcheck's window, or this. */
    healthWindows: healthWindowsSchema,
    /** Who deploys, for the run log. */
    user: z.string().default('unknown'),
    action: z.string().default('deploy'),
  })
  .strict();

const STACK_IMAGE_LABEL = 'com.docker.stack.image';

interface LiveService {
  name: string;
  spec?: SpecForOrder & { TaskTemplate?: { ContainerSpec?: { Image?: string; Healthcheck?: Parameters<typeof specHealthWindow>[0] } }; Labels?: Record<string, string> };
}

interface DeployState {
  services: LiveService[];
  /** Image reference -> its digest, or the reason it could not be resolved. */
  digests: Record<string, { digest?: string; error?: string }>;
}

/**
 * The digest a reference's tag points at, read from its registry without
 * pulling (`docker manifest inspect`); a reference already pinned by
 * digest is taken as it is. For a multi-platform list the manifest's own
 * digest is not printed, so the manager pulls it once and reads RepoDigests.
 */
function resolveCommand(ref: string): Command {
  const pinned = digestOf(ref);
  if (pinned) return sh`echo ${`@@digest ${ref} ${pinned}`}`;
  // ${ref} stays outside "...": sh`` quotes it for a bare word, and inside double quotes '...' is text and $(...) runs.
  return sh`m=$(docker manifest inspect --insecure -v ${ref} 2>/dev/null | tr -d '\n')
case "$m" in
  '{'*) echo "@@manifest "${ref}" $m" ;;
  *) d=$(docker pull -q ${ref} >/dev/null 2>&1 && docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' ${ref} | sed -n 's/.*@//p' | head -n1)
     echo "@@digest "${ref}" \${d:-@@unresolved}" ;;
esac`;
}

function probeCommand(p: z.output<typeof schema>): Command {
  const parts = p.services.map((s) => sh`echo ${`@@service ${s.name}`}; docker service inspect --format '{{json .Spec}}' ${s.name} 2>/dev/null || echo @@missing`);
  const refs = [...new Set(p.services.map((s) => s.image))];
  return Command.join([...parts, ...refs.map(resolveCommand)], '\n');
}

export function parseDeployState(text: string): DeployState {
  const state: DeployState = { services: [], digests: {} };
  let current: LiveService | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('@@service ')) {
      current = { name: line.slice(10).trim() };
      state.services.push(current);
    } else if (line.startsWith('@@digest ')) {
      const [, ref = '', d = ''] = line.trim().split(' ');
      state.digests[ref] = d.startsWith('sha256:') ? { digest: d } : { error: 'its registry did not give a digest for it (no such tag, or the registry is unreachable)' };
    } else if (line.startsWith('@@manifest ')) {
      const [, ref = ''] = line.split(' ');
      const m = JSON.parse(line.slice(12 + ref.length)) as { Descriptor?: { digest?: string } };
      state.digests[ref] = m.Descriptor?.digest ? { digest: m.Descriptor.digest } : { error: 'its manifest has no digest' };
    } else if (current && line.startsWith('{')) {
      current.spec = JSON.parse(line) as LiveService['spec'];
    }
  }
  return state;
}

/** What a deploy would change: each service whose running image differs from the pinned target. */
export function planDeploy(p: Omit<z.output<typeof schema>, 'healthWindows'> & { healthWindows?: HealthWindows }, s: DeployState): { changes: ServiceChange[]; problems: string[] } {
  const problems: string[] = [];
  const changes: ServiceChange[] = [];
  for (const want of p.services) {
    const live = s.services.find((x) => x.name === want.name);
    const d = s.digests[want.image];
    if (!live?.spec) problems.push(`no service ${want.name} in the swarm`);
    else if (!d?.digest) problems.push(`cannot resolve ${want.image}: ${d?.error ?? 'no answer'}`);
    else {
      const from = live.spec.TaskTemplate?.ContainerSpec?.Image ?? '';
      const to = pinImage(want.image, d.digest);
      if (from === to) continue;
      const order = updateOrder(live.spec);
      // A stack's service remembers its compose image in this label; `docker stack deploy` keeps the running
      // image while the file's image equals it, so the label follows, or a later stack deploy would not revert.
      const stackLabel = live.spec.Labels?.[STACK_IMAGE_LABEL] !== undefined ? ['--label-add', `${STACK_IMAGE_LABEL}=${to}`] : [];
      const window = windowOf(want.name, specHealthWindow(live.spec.TaskTemplate?.ContainerSpec?.Healthcheck), p.healthWindows ?? {});
      changes.push({ name: want.name, from, to, order, args: ['--image', to, '--update-order', order.order, ...stackLabel], ...(window !== undefined ? { window } : {}) });
    }
  }
  return { changes, problems };
}

/**
 * Health-gated update of services to new images (lib/ops/docker/rollout/): the
 * digests are pinned when the op decides, so check mode shows the exact
 * bytes a run would deploy and every node runs them.
 */
export const deploy = defineOp({
  kind: 'docker.deploy',
  schema,
  describe: (p) => `${p.action} ${p.services.map((s) => s.name).join(', ')}`,
  probe: (p) => ({ command: probeCommand(p), parse: (r: ExecResult) => parseDeployState(r.stdout.toString('utf8')) }),
  decide: (p, s: DeployState): Decision<RolloutResult> => {
    const { changes, problems } = planDeploy(p, s);
    if (problems.length) return { kind: 'fail', reason: problems.join('; ') };
    if (changes.length === 0) return { kind: 'ok', result: { services: [], health: [] }, msg: p.services.map((x) => `${x.name} already on ${x.image}`).join('; ') };
    const lines = changes.flatMap((c) => [`~ ${c.name}: image ${shortImage(c.from)} -> ${shortImage(c.to)}`, `  ${c.order!.order}: ${c.order!.reason}`]);
    return {
      kind: 'change',
      msg: changes.map((c) => `${c.name} -> ${shortImage(c.to)} (${c.order!.order}: ${c.order!.reason})`).join('; '),
      diff: { kind: 'summary', lines },
      apply: (remote) => gatedRollout(remote, { action: p.action, user: p.user, changes, checks: p.checks, retries: p.retries, delaySeconds: p.delaySeconds, timeoutSeconds: p.timeoutSeconds, windows: p.healthWindows }),
      checkResult: { services: changes.map(({ name, from, to }) => ({ name, from, to })), health: [] },
    };
  },
});
