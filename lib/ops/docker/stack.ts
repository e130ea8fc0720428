import { createHash } from 'node:crypto';
import { parseDocument } from '../../shell/yaml.ts';
import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { jsonChanges } from '../../shell/diff.ts';
import { defineOp, OpFailure, type Decision, type Remote } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { jsonEqual } from '../files/json-merge.ts';
import { atomicWrite } from '../files/write-file.ts';
import type { Compose } from './compose.ts';
import { renderStack } from './stack-file.ts';
import { convergeWait, rollbackServices } from './converge.ts';
import { healthCheckSchema } from './health.ts';
import { composeHealthWindow, healthWindowsSchema, windowOf } from './health-window.ts';
import { healthGate, unhealthy } from './rollout/health-gated.ts';
import { currentVersion } from './rollout/secret-versions.ts';
import { lockNote, recordRun, withDeployLock } from './rollout/deploy-lock.ts';
import type { DeployRecord } from './rollout/rollout.ts';
import { describeOverride, isScaleLabel, overridesOf, withOverrides, type ScaleOverride } from './scale-override.ts';

/**
 * What rigger recorded on the manager after its last deploy of a stack: the
 * compose definition of each service and the spec Docker made of it. The
 * next run compares the new definitions with the recorded ones (what the
 * user changed) and the live specs with the recorded ones (what drifted:
 * a `docker service scale`, a hand edit), so a no-op run and check mode
 * never need to deploy to know.
 */
interface StackRecord {
  top: unknown;
  services: Record<string, { def: unknown; spec: unknown }>;
}

export const stackRecordPath = (name: string) => `/var/lib/rigger/stacks/${name}.json`;

/** A Docker stack's name: what `docker stack deploy` and its services' names accept, and nothing a shell reads as syntax. */
export const stackName = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a stack name: lower-case letters, digits, _ and -');

const schema = z
  .object({
    name: stackName,
    /** The compose file's text, before interpolation; or give `file`. */
    compose: z.string().min(1).optional(),
    /** A compose file on this machine (relative to the working directory), read when the op is built. */
    file: z.string().min(1).optional(),
    /** Values for ${VAR} in the compose file. Secrets belong in docker secrets, not here. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    /** Remove services of the stack that the compose file no longer has. */
    prune: z.boolean().default(false),
    /** How long to wait for every service to reach its replica count after a deploy. */
    timeoutSeconds: z.number().int().min(1).default(300),
    /** HTTP checks (the inventory's health_checks) that gate the services a deploy updated (new ones are left to the health role); a failure rolls the whole deploy back. */
    checks: z.array(healthCheckSchema).default([]),
    healthRetries: z.number().int().min(0).default(10),
    healthDelaySeconds: z.number().min(0).default(3),
    /** The inventory's health_windows: a service is waited on for at least its healthcheck's window, or this. */
    healthWindows: healthWindowsSchema,
    /** Deploy only these services of the file (recovery starts the database alone); the rest come with a later full deploy. */
    services: z.array(z.string().min(1)).optional(),
    /**
     * Image references replaced after interpolation (real -> substitute): a
     * rehearsal runs the real stack files with stand-in images, nothing else changed.
     */
    images: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Who deploys, for the run log on the manager (`deploy.ts --history`). */
    user: z.string().default('unknown'),
  })
  .strict()
  .transform((p, ctx) => {
    const source = p.file ?? 'compose';
    const read = renderStack(p);
    if (read.problems) {
      for (const pr of read.problems) ctx.addIssue({ code: 'custom', path: [pr.param], message: pr.message });
      return z.NEVER;
    }
    const parsed = { compose: read.compose };
    const rendered = { text: read.text };
    if (p.services) {
      const unknown = p.services.filter((s) => !(s in parsed.compose!.services));
      if (unknown.length) {
        ctx.addIssue({ code: 'custom', path: ['services'], message: `${source} has no service ${unknown.join(', ')}` });
        return z.NEVER;
      }
      const doc = parseDocument(rendered.text);
      for (const name of Object.keys(parsed.compose.services)) if (!p.services.includes(name)) doc.deleteIn(['services', name]);
      const services = Object.fromEntries(Object.entries(parsed.compose.services).filter(([k]) => p.services!.includes(k)));
      return { ...p, rendered: doc.toString(), parsed: { ...parsed.compose, services } as Compose };
    }
    return { ...p, rendered: rendered.text, parsed: parsed.compose };
  });

type Params = z.output<typeof schema>;

interface StackState {
  error?: string;
  live: Map<string, unknown>;
  record?: StackRecord;
}

const label = (name: string) => `label=com.docker.stack.namespace=${name}`;

/** One JSON spec per line for every service of the stack. */
const specsCommand = (name: string) =>
  sh`if ! command -v docker >/dev/null; then :; elif ids=$(docker service ls -q --filter ${label(name)} 2>&1); then if [ -n "$ids" ]; then docker service inspect --format '{{json .Spec}}' $ids; fi; else printf '@@error %s\n' "$ids"; fi`;

function parseSpecs(text: string): Map<string, unknown> {
  const live = new Map<string, unknown>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const spec = JSON.parse(line) as { Name: string };
    live.set(spec.Name, spec);
  }
  return live;
}

export function parseStackState(text: string): StackState {
  const [specs = '', record = ''] = text.split('@@record\n');
  if (specs.startsWith('@@error')) {
    const error = specs.slice(8).trim();
    // No swarm yet (check mode before the swarm role ran): no services, every one would be created.
    return /not a swarm manager/i.test(error) ? { live: new Map() } : { error, live: new Map() };
  }
  const state: StackState = { live: parseSpecs(specs) };
  if (record.trim()) {
    try {
      state.record = JSON.parse(record) as StackRecord;
    } catch {
      // An unreadable record is the same as none: the next deploy rewrites it.
    }
  }
  return state;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function definitions(p: Params): { top: unknown; services: Record<string, unknown> } {
  const { services, ...top } = p.parsed as Compose;
  return { top, services: Object.fromEntries(Object.entries(services).map(([k, v]) => [`${p.name}_${k}`, v])) };
}

const describeChange = (path: string, before: unknown, after: unknown) =>
  `${path}: ${before === undefined ? '(unset)' : JSON.stringify(before)} -> ${after === undefined ? '(unset)' : JSON.stringify(after)}`;

type ServiceSpec = { Labels?: Record<string, string> | null; Mode?: { Replicated?: { Replicas?: number } } };

/** A spec without what an operator's scale sets (its replicas and rigger.scale.* labels): compared so, a scale is not drift. */
function withoutScale(spec: unknown): unknown {
  const s = structuredClone(spec) as ServiceSpec | undefined;
  if (!s || typeof s !== 'object') return s;
  if (s.Labels) for (const k of Object.keys(s.Labels)) if (isScaleLabel(k)) delete s.Labels[k];
  if (s.Mode?.Replicated) delete s.Mode.Replicated.Replicas;
  return s;
}

const fileReplicas = (def: unknown) => (def as { deploy?: { replicas?: number } }).deploy?.replicas ?? 1;

/**
 * What a deploy would do, service by service, from the recorded and live
 * state. A service an operator scaled (playbooks/scale.ts) keeps its scale:
 * its replicas and scale labels are not drift, and a line says so.
 */
export function planStack(p: Params, s: StackState): { lines: string[]; touched: string[] } {
  const desired = definitions(p);
  const overrides = overridesOf(s.live);
  const lines: string[] = [];
  const touched: string[] = [];
  for (const [svc, def] of Object.entries(desired.services)) {
    const live = s.live.get(svc);
    const rec = s.record?.services[svc];
    const scaled = overrides.get(svc);
    if (scaled) lines.push(`= ${svc}: kept at ${scaled.replicas} replicas (the file says ${fileReplicas(def)}): ${describeOverride(scaled)}`);
    if (live === undefined) {
      lines.push(`+ ${svc} (create)`);
      touched.push(svc);
      continue;
    }
    if (!rec) {
      lines.push(`~ ${svc}: no record of rigger's last deploy here; deploy to be sure`);
      touched.push(svc);
      continue;
    }
    const defChanges = jsonChanges(rec.def, def);
    // The record may hold a scale since cleared, or the live spec one set since: either way the replicas are the operator's.
    const scaleInPlay = scaled !== undefined || overridesOf([[svc, rec.spec]]).size > 0;
    const drift = scaleInPlay ? jsonChanges(withoutScale(rec.spec), withoutScale(live)) : jsonChanges(rec.spec, live);
    // A hand scale on top of a recorded one is drift from the record: the deploy puts the recorded count back.
    const liveReplicas = (live as ServiceSpec).Mode?.Replicated?.Replicas;
    const offRecord = scaled !== undefined && liveReplicas !== undefined && liveReplicas !== scaled.replicas;
    // A scale since cleared (the record still holds it, the live spec no longer): the file's count is the one to keep.
    const offFile = scaleInPlay && scaled === undefined && liveReplicas !== undefined && liveReplicas !== fileReplicas(def);
    if (defChanges.length === 0 && drift.length === 0 && !offRecord && !offFile) continue;
    touched.push(svc);
    if (offRecord) lines.push(`~ ${svc} (changed outside rigger, back to the recorded scale): replicas ${liveReplicas} -> ${scaled.replicas}`);
    if (offFile) lines.push(`~ ${svc} (changed outside rigger, back to the file): replicas ${liveReplicas} -> ${fileReplicas(def)}`);
    for (const c of defChanges) lines.push(`~ ${svc}: ${describeChange(c.path, c.before, c.after)}`);
    for (const c of drift) lines.push(`~ ${svc} (changed outside rigger, reverted): ${describeChange(c.path, c.after, c.before)}`);
  }
  for (const svc of s.live.keys()) {
    if (svc in desired.services) continue;
    lines.push(p.prune ? `- ${svc} (remove)` : `! ${svc} is no longer in the compose file (kept: prune is off)`);
    if (p.prune) touched.push(svc);
  }
  if (s.record && !jsonEqual(s.record.top, desired.top)) {
    for (const c of jsonChanges(s.record.top, desired.top)) lines.push(`~ stack ${p.name}: ${describeChange(c.path, c.before, c.after)}`);
    if (touched.length === 0) touched.push(`(stack ${p.name})`);
  }
  return { lines, touched };
}

/** The stack's services, as a shell word list for convergeWait. */
const stackServices = (name: string) => sh`$(docker service ls --filter ${label(name)} --format '{{.Name}}')`;

/**
 * The whole run goes back: every service this deploy updated returns to
 * the spec it had before (Swarm keeps it as PreviousSpec), not only the one
 * that failed, and the op waits until they have converged on it.
 */
async function rollBack(services: string[], timeout: number, remote: Remote): Promise<{ ok: boolean; text: string }> {
  if (services.length === 0) return { ok: true, text: 'nothing to roll back (every changed service was new)' };
  const r = await remote.run(rollbackServices(services, timeout));
  return r.code === 0 ? { ok: true, text: `rolled back ${services.join(', ')} to their previous specs` } : { ok: false, text: `rolling back ${services.join(', ')} failed too:\n${r.stderr.toString('utf8').trim()}` };
}

/**
 * The compose text with each external secret pointed at its newest version
 * (NAME_vN after a rotation, lib/ops/docker/secret.ts), so a deploy keeps
 * services on the value they were rotated to.
 */
async function withSecretVersions(p: Params, remote: Remote): Promise<string> {
  const external = Object.entries(p.parsed.secrets ?? {}).filter(([, v]) => 'external' in v && v.external);
  if (external.length === 0) return p.rendered;
  const names = (await remote.check(sh`docker secret ls --format '{{.Name}}'`)).stdout.toString('utf8').split('\n').filter(Boolean);
  const doc = parseDocument(p.rendered);
  for (const [key, v] of external) {
    const base = (v as { name?: string }).name ?? key;
    const current = currentVersion(base, names);
    if (current && current !== base) doc.setIn(['secrets', key, 'name'], current);
  }
  return doc.toString();
}

/**
 * How long the convergence waits: the fixed timeout, or longer when a
 * service's health window is (Swarm counts its task running only once healthy).
 */
export function convergeSeconds(p: Pick<Params, 'name' | 'parsed' | 'timeoutSeconds' | 'healthWindows'>): number {
  const windows = Object.entries(p.parsed.services).map(([svc, def]) => windowOf(`${p.name}_${svc}`, composeHealthWindow(def.healthcheck), p.healthWindows) ?? 0);
  return Math.max(p.timeoutSeconds, ...windows);
}

/**
 * The text `docker stack deploy` is given: the file with its secrets'
 * newest versions, and each operator's scale (read under the deploy lock)
 * in its service's replicas and labels, so the deploy itself sets them.
 */
async function deployText(p: Params, overrides: ReadonlyMap<string, ScaleOverride>, remote: Remote): Promise<string> {
  return withOverrides(p.name, await withSecretVersions(p, remote), p.parsed, overrides).rendered;
}

async function deployLocked(p: Params, before: Map<string, unknown>, remote: Remote, log: (outcome: DeployRecord['outcome'], changed: string[], after: Map<string, unknown>, problem?: string) => Promise<void>) {
  const args = ['--compose-file', '-', '--resolve-image', 'never', ...(p.prune ? ['--prune'] : [])];
  // The deploy's own output goes to stderr, so stdout is the specs it left, read in the same round trip.
  const r = await remote.run(sh`docker stack deploy ${args} ${p.name} >&2 && ${specsCommand(p.name)}`.withStdin(await deployText(p, overridesOf(before), remote)));
  if (r.code !== 0) throw new OpFailure(`docker stack deploy ${p.name} failed:\n${r.stderr.toString('utf8').trim()}`, r);
  const after = parseSpecs(r.stdout.toString('utf8'));
  const desired = definitions(p);
  const record: StackRecord = {
    top: desired.top,
    services: Object.fromEntries([...after].filter(([n]) => n in desired.services).map(([n, spec]) => [n, { def: desired.services[n], spec }])),
  };
  const text = JSON.stringify(record);
  await remote.check(Command.join([sh`mkdir -p /var/lib/rigger/stacks && chmod 700 /var/lib/rigger/stacks`, atomicWrite(stackRecordPath(p.name), Buffer.from(text), sha(text), '0600', {})]));
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((n) => !jsonEqual(before.get(n), after.get(n)));
  const timeout = convergeSeconds(p);
  const w = await remote.run(convergeWait(stackServices(p.name), sh`${changed.filter((n) => after.has(n))}`, timeout));
  const updated = changed.filter((n) => before.has(n) && after.has(n));
  if (w.code !== 0) {
    const back = await rollBack(updated, timeout, remote);
    await log(back.ok ? 'rolled back' : 'failed', changed, after, `did not converge: ${w.stderr.toString('utf8').trim().split('\n')[0]}`);
    throw new OpFailure(`stack ${p.name} did not converge:\n${w.stderr.toString('utf8').trim()}\n${back.text}`, w);
  }
  // Only updated services are gated: they have a previous spec to go back to. A
  // service this deploy created has none, and may wait on what later plays make
  // (an application's database): the health role checks it once the run is done.
  if (p.checks.some((c) => updated.includes(c.service))) {
    const gate = await healthGate(remote, updated, { checks: p.checks, retries: p.healthRetries, delaySeconds: p.healthDelaySeconds, windows: p.healthWindows });
    if (!gate.ok) {
      const back = await rollBack(updated, timeout, remote);
      const problem = `health check failed after ${gate.attempts} attempts${gate.note}: ${unhealthy(gate.rows)}`;
      await log(back.ok ? 'rolled back' : 'failed', changed, after, problem);
      throw new OpFailure(`stack ${p.name}: ${problem}\n${back.text}`);
    }
  }
  if (changed.length) await log('ok', changed, after);
  return { services: [...after.keys()].sort(), changed: changed.sort() };
}

const imageIn = (spec: unknown) => (spec as { TaskTemplate?: { ContainerSpec?: { Image?: string } } } | undefined)?.TaskTemplate?.ContainerSpec?.Image ?? '';

/**
 * A stack deploy under the deploy lock (lib/ops/docker/rollout/deploy-lock.ts), so it
 * cannot race deploy.ts or another site.ts, logged in the run log with the
 * image each changed service had before and after.
 */
async function deploy(p: Params, remote: Remote): Promise<StackResult> {
  const action = `stack ${p.name}`;
  return withDeployLock(remote, { user: p.user, action }, async (lock) => {
    // The specs as they are under the lock: the probe's were read before it, and
    // a deploy that held the lock meanwhile would make them the wrong "before"
    // (what changed, what to roll back to, what the run log says it replaced).
    const now = parseStackState((await remote.check(specsCommand(p.name))).stdout.toString('utf8'));
    if (now.error) throw new OpFailure(`reading stack ${p.name}'s services failed: ${now.error}`);
    const before = now.live;
    return deployLocked(p, before, remote, (outcome, changed, after, problem) =>
      recordRun(remote, {
        user: p.user,
        action,
        outcome,
        services: [...changed].sort().map((name) => ({ name, from: imageIn(before.get(name)), to: imageIn(after.get(name)) })),
        ...(problem ? { problem } : {}),
        ...lockNote(lock),
      }),
    );
  });
}



export interface StackResult {
  services: string[];
  /** Services whose spec the deploy changed (created, updated or removed). */
  changed: string[];
}

/**
 * A swarm stack from a compose file, deployed with `docker stack deploy`.
 * Decided without deploying: unchanged definitions and undrifted specs are
 * ok; otherwise check mode lists each service that would change and how.
 * After a deploy, the specs before and after say what really changed, and
 * the op waits for every service's replicas.
 */
export const stack = defineOp({
  kind: 'docker.stack',
  schema,
  describe: (p) => `stack ${p.name} (${Object.keys(p.parsed.services).length} services)`,
  probe: (p) => ({
    command: sh`${specsCommand(p.name)}; echo @@record; cat ${stackRecordPath(p.name)} 2>/dev/null || true`,
    parse: (r: ExecResult) => parseStackState(r.stdout.toString('utf8')),
  }),
  decide: (p, s: StackState): Decision<StackResult> => {
    if (s.error) return { kind: 'fail', reason: `cannot list the services of stack ${p.name}: ${s.error}` };
    const { lines, touched } = planStack(p, s);
    const services = Object.keys(definitions(p).services).sort();
    if (touched.length === 0) return { kind: 'ok', result: { services, changed: [] }, ...(lines.length ? { msg: lines.join('; ') } : {}) };
    return {
      kind: 'change',
      msg: `deploy ${p.name}: ${touched.join(', ')}`,
      diff: { kind: 'summary', lines },
      apply: (remote) => deploy(p, remote),
      unchanged: (r) => r.changed.length === 0,
      checkResult: { services, changed: touched },
    };
  },
});
