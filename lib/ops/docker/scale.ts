import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { defineOp, OpFailure, type Decision, type Remote } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { convergeWait } from './converge.ts';
import { healthWindowsSchema, specHealthWindow, windowOf } from './health-window.ts';
import { withDeployLock } from './rollout/deploy-lock.ts';
import { describeOverride, overrideFromLabels, overrideLabels, SCALE_LABELS, type ScaleOverride } from './scale-override.ts';

const target = z
  .object({
    /** STACK_SERVICE, as `docker service ls` names it. */
    service: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a service name: STACK_SERVICE'),
    /** The replicas to run: the operator's, or when clearing, the stack file's (what the next deploy would set). */
    replicas: z.number().int().min(0),
    /** Remove the record and go back to `replicas`; a service with no record is left as it is. */
    clear: z.boolean().default(false),
  })
  .strict();

const schema = z
  .object({
    targets: z.array(target).min(1),
    /** Why: the daily check and every stack run print it. Required unless every target is cleared. */
    reason: z.string().default(''),
    /** Who scales (the login on the controller). */
    by: z.string().min(1).default('unknown'),
    /** When, ISO 8601 UTC; now by default. */
    since: z.string().default(() => new Date().toISOString().replace(/\.\d+Z$/, 'Z')),
    /** How long to wait for the new replicas; a service with a healthcheck is waited on for at least its window. */
    timeoutSeconds: z.number().int().min(1).default(300),
    healthWindows: healthWindowsSchema,
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.targets.some((t) => !t.clear) && !p.reason.trim()) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'say why the service is scaled: the daily check reports it' });
    if (/[\n\r]/.test(p.reason)) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'one line' });
  });

type Params = z.output<typeof schema>;

/** The parts of a live service spec the scale op reads. */
export interface ScaleServiceSpec {
  Labels?: Record<string, string> | null;
  Mode?: { Replicated?: { Replicas?: number }; Global?: object };
  TaskTemplate?: { ContainerSpec?: { Healthcheck?: Parameters<typeof specHealthWindow>[0] } };
}

/** Service name -> its live spec, or undefined where there is no such service. */
export type ScaleState = Map<string, ScaleServiceSpec | undefined>;

export function parseScaleState(text: string): ScaleState {
  const state: ScaleState = new Map();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('@@service ')) state.set((current = line.slice(10).trim()), undefined);
    else if (current && line.startsWith('{')) state.set(current, JSON.parse(line) as ScaleServiceSpec);
  }
  return state;
}

export interface ScaleChange {
  service: string;
  /** `docker service update` arguments: the replicas and the labels. */
  args: string[];
  line: string;
  window?: number;
}

export interface ScaleResult {
  /** Each target as it is left: its replicas and the override it carries, if any. */
  services: { service: string; replicas: number; override?: ScaleOverride }[];
  changed: string[];
}

/** What scaling would change, service by service; a problem (no such service, a global one) fails the whole op before anything changes. */
export function planScale(p: Params, s: ScaleState): { changes: ScaleChange[]; unchanged: string[]; problems: string[]; result: ScaleResult } {
  const changes: ScaleChange[] = [];
  const unchanged: string[] = [];
  const problems: string[] = [];
  const result: ScaleResult = { services: [], changed: [] };
  for (const t of p.targets) {
    const spec = s.get(t.service);
    if (!spec && t.clear) {
      unchanged.push(`${t.service}: not in the swarm, no scale to clear`);
      continue;
    }
    if (!spec) {
      problems.push(`no service ${t.service} in the swarm (is its stack deployed? site.ts deploys it)`);
      continue;
    }
    if (spec.Mode?.Global || !spec.Mode?.Replicated) {
      problems.push(`${t.service} is a global service (one task per node): it has no replica count to scale`);
      continue;
    }
    const replicas = spec.Mode.Replicated.Replicas ?? 1;
    const recorded = overrideFromLabels(spec.Labels);
    const window = windowOf(t.service, specHealthWindow(spec.TaskTemplate?.ContainerSpec?.Healthcheck), p.healthWindows);
    const withWindow = window !== undefined ? { window } : {};
    if (t.clear) {
      if (!recorded) {
        unchanged.push(`${t.service}: no scale recorded, left at ${replicas}`);
        result.services.push({ service: t.service, replicas });
        continue;
      }
      const present = Object.values(SCALE_LABELS).filter((k) => spec.Labels?.[k] !== undefined);
      changes.push({ service: t.service, args: ['--replicas', String(t.replicas), ...present.flatMap((k) => ['--label-rm', k])], line: `~ ${t.service}: replicas ${replicas} -> ${t.replicas} (the stack file's); record removed (was ${describeOverride(recorded)})`, ...withWindow });
      result.services.push({ service: t.service, replicas: t.replicas });
      continue;
    }
    // The same count for the same reason is already done: its record (who, since when) stays the first one's.
    if (recorded && recorded.replicas === t.replicas && recorded.reason === p.reason && replicas === t.replicas) {
      unchanged.push(`${t.service}: already ${describeOverride(recorded)}`);
      result.services.push({ service: t.service, replicas, override: recorded });
      continue;
    }
    const override: ScaleOverride = { replicas: t.replicas, reason: p.reason, by: p.by, since: p.since };
    const labels = Object.entries(overrideLabels(override)).flatMap(([k, v]) => ['--label-add', `${k}=${v}`]);
    changes.push({ service: t.service, args: ['--replicas', String(t.replicas), ...labels], line: `~ ${t.service}: replicas ${replicas} -> ${t.replicas}; recorded: ${describeOverride(override)}`, ...withWindow });
    result.services.push({ service: t.service, replicas: t.replicas, override });
  }
  result.changed = changes.map((c) => c.service);
  return { changes, unchanged, problems, result };
}

const probeCommand = (p: Params) => Command.join(p.targets.map((t) => sh`echo ${`@@service ${t.service}`}; docker service inspect --format '{{json .Spec}}' ${t.service} 2>/dev/null || true`), '\n');

/**
 * Under the deploy lock (a stack run reads the overrides under it too), one
 * `docker service update` per service: the replicas and the record change in
 * the same spec update. Then the wait for the new counts.
 */
async function apply(p: Params, changes: ScaleChange[], remote: Remote): Promise<void> {
  const action = `scale ${changes.map((c) => c.service).join(', ')}`;
  await withDeployLock(remote, { user: p.by, action }, async () => {
    for (const c of changes) {
      // --no-resolve-image: the image stays the string it is (a pin by digest would be drift to the next stack run).
      const r = await remote.run(sh`docker service update --detach --no-resolve-image ${c.args} ${c.service} >/dev/null`);
      if (r.code !== 0) throw new OpFailure(`docker service update ${c.service} failed:\n${r.stderr.toString('utf8').trim()}`, r);
    }
    const timeout = Math.max(p.timeoutSeconds, ...changes.map((c) => c.window ?? 0));
    // Only replicas and labels change: no rolling update to read, only the counts to reach.
    const w = await remote.run(convergeWait(sh`${changes.map((c) => c.service)}`, sh``, timeout));
    if (w.code !== 0) throw new OpFailure(`${action}: the replicas did not converge:\n${w.stderr.toString('utf8').trim()}`, w);
  });
}

/**
 * An operator's scale of swarm services, recorded on each service as
 * rigger.scale.* labels (lib/ops/docker/scale-override.ts) so stack runs
 * keep it and the daily check reports it as intended; or, with `clear`,
 * the record removed and the stack file's replicas back.
 */
export const scale = defineOp({
  kind: 'docker.scale',
  schema,
  describe: (p) => p.targets.map((t) => (t.clear ? `${t.service} back to ${t.replicas}` : `${t.service}=${t.replicas}`)).join(', '),
  probe: (p) => ({ command: probeCommand(p), parse: (r: ExecResult) => parseScaleState(r.stdout.toString('utf8')) }),
  decide: (p, s: ScaleState): Decision<ScaleResult> => {
    const { changes, unchanged, problems, result } = planScale(p, s);
    if (problems.length) return { kind: 'fail', reason: problems.join('; ') };
    if (changes.length === 0) return { kind: 'ok', result, msg: unchanged.join('; ') };
    return {
      kind: 'change',
      msg: changes.map((c) => c.line.slice(2)).join('; '),
      diff: { kind: 'summary', lines: [...changes.map((c) => c.line), ...unchanged.map((u) => `= ${u}`)] },
      apply: async (remote) => {
        await apply(p, changes, remote);
        return result;
      },
      checkResult: result,
    };
  },
});
