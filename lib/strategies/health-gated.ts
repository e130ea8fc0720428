import { sh } from '../core/command.ts';
import { OpFailure, type Remote } from '../core/op.ts';
import { recordRun, takeDeployLock } from './deploy-lock.ts';
import { convergeWait, rollbackServices } from '../ops/docker/converge.ts';
import { healthProbeScript, parseHealth, type healthCheckSchema, type ServiceHealth } from '../ops/docker/health.ts';
import type { z } from '../core/zod.ts';
import type { DeployRecord, OrderDecision } from './rollout.ts';

type Check = z.output<typeof healthCheckSchema>;

export interface ServiceChange {
  name: string;
  /** What the service runs before and after, for the run log (an image, a secret version). */
  from: string;
  to: string;
  /** The arguments of `docker service update` that make the change. */
  args: string[];
  order?: OrderDecision;
}

export interface GatedRollout {
  action: string;
  user: string;
  changes: ServiceChange[];
  checks: Check[];
  retries: number;
  delaySeconds: number;
  timeoutSeconds: number;
}

export interface RolloutResult {
  services: { name: string; from: string; to: string }[];
  health: ServiceHealth[];
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** Replicas and the HTTP checks of these services, retried a bounded number of times; the last reading. */
export async function healthGate(remote: Remote, names: string[], r: Pick<GatedRollout, 'checks' | 'retries' | 'delaySeconds'>): Promise<{ ok: boolean; rows: ServiceHealth[] }> {
  const checks = r.checks.filter((c) => names.includes(c.service));
  let rows: ServiceHealth[] = [];
  for (let attempt = 0; attempt <= r.retries; attempt++) {
    if (attempt > 0) await sleep(r.delaySeconds);
    const read = parseHealth((await remote.run(healthProbeScript(checks))).stdout.toString('utf8'), checks);
    rows = Array.isArray(read) ? read.filter((x) => names.includes(x.service)) : [];
    if (rows.length === names.length && rows.every((x) => x.healthy)) return { ok: true, rows };
  }
  return { ok: false, rows };
}

export const unhealthy = (rows: ServiceHealth[]) => rows.filter((x) => !x.healthy).map((x) => `${x.service}: ${x.problem ?? 'unhealthy'}`).join('; ') || 'no health reading';

async function record(remote: Remote, r: GatedRollout, outcome: DeployRecord['outcome'], problem?: string, note?: string): Promise<void> {
  await recordRun(remote, { user: r.user, action: r.action, outcome, services: r.changes.map(({ name, from, to }) => ({ name, from, to })), ...(problem ? { problem } : {}), ...(note ? { note } : {}) });
}

/**
 * A health-gated rollout on a manager: under the deploy lock, each service
 * is updated to its pinned image with its update order and waited for; then
 * the health gate. Any failure rolls back every service this run updated,
 * waits until the old versions are healthy again, logs the run and fails
 * naming what failed. Success is logged too (`deploy.ts --history`).
 */
export async function gatedRollout(remote: Remote, r: GatedRollout): Promise<RolloutResult> {
  const lock = await takeDeployLock(remote, r);
  try {
    const updated: string[] = [];
    let problem: string | undefined;
    for (const c of r.changes) {
      updated.push(c.name);
      const u = await remote.run(sh`docker service update --detach --no-resolve-image ${c.args} ${c.name} >/dev/null || exit $?
${convergeWait(sh`${c.name}`, sh`${c.name}`, r.timeoutSeconds)}`);
      if (u.code !== 0) {
        problem = `${c.name}: the rollout failed:\n${u.stderr.toString('utf8').trim()}`;
        break;
      }
    }
    const names = r.changes.map((c) => c.name);
    if (!problem) {
      const gate = await healthGate(remote, names, r);
      if (gate.ok) {
        await record(remote, r, 'ok', undefined, lock.tookOver);
        return { services: r.changes.map(({ name, from, to }) => ({ name, from, to })), health: gate.rows };
      }
      problem = `health check failed after ${r.retries + 1} attempts: ${unhealthy(gate.rows)}`;
    }
    const back = await remote.run(rollbackServices(updated, r.timeoutSeconds));
    const after = back.code === 0 ? await healthGate(remote, updated, r) : { ok: false, rows: [] };
    const how = back.code !== 0 ? `rolling back failed too:\n${back.stderr.toString('utf8').trim()}` : after.ok ? `rolled back ${updated.join(', ')}: the previous version is healthy again` : `rolled back ${updated.join(', ')}, but the previous version is not healthy: ${unhealthy(after.rows)}`;
    await record(remote, r, back.code === 0 && after.ok ? 'rolled back' : 'failed', problem, lock.tookOver);
    const plan = r.changes.map((c) => `${c.name} -> ${c.to}${c.order ? ` (${c.order.order}: ${c.order.reason})` : ''}`).join('; ');
    throw new OpFailure(`${problem}\n${how}\nthe run: ${plan}`);
  } finally {
    await lock.release();
  }
}
