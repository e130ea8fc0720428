import { sh } from '../../../shell/command.ts';
import { OpFailure, type Remote } from '../../../model/op.ts';
import { lockNote, recordRun, withDeployLock } from './deploy-lock.ts';
import { convergeWait, rollbackServices } from '../converge.ts';
import { healthProbeScript, parseHealth, type healthCheckSchema, type ServiceHealth } from '../health.ts';
import type { z } from '../../../shell/zod.ts';
import type { DeployRecord, OrderDecision } from './rollout.ts';
import { stillWaiting, windowNote, windowOf, type HealthWindows } from '../health-window.ts';

type Check = z.output<typeof healthCheckSchema>;

export interface ServiceChange {
  name: string;
  /** What the service runs before and after, for the run log (an image, a secret version). */
  from: string;
  to: string;
  /** The arguments of `docker service update` that make the change. */
  args: string[];
  order?: OrderDecision;
  /** Its health window in seconds: its update is waited on at least that long. */
  window?: number;
}

export interface GatedRollout {
  action: string;
  user: string;
  changes: ServiceChange[];
  checks: Check[];
  retries: number;
  delaySeconds: number;
  timeoutSeconds: number;
  /** The inventory's health_windows: overrides of each service's healthcheck window. */
  windows?: HealthWindows;
}

export interface RolloutResult {
  services: { name: string; from: string; to: string }[];
  health: ServiceHealth[];
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/**
 * Replicas and the HTTP checks of these services, retried `retries` times
 * and, for a service with a healthcheck, for at least its window
 * (lib/ops/docker/health-window.ts); the last reading, the attempts made,
 * and how a failure names the windows it waited out.
 */
export async function healthGate(
  remote: Remote,
  names: string[],
  r: Pick<GatedRollout, 'checks' | 'retries' | 'delaySeconds' | 'windows'>,
): Promise<{ ok: boolean; rows: ServiceHealth[]; attempts: number; note: string }> {
  const checks = r.checks.filter((c) => names.includes(c.service));
  const started = performance.now();
  let rows: ServiceHealth[] = [];
  let bad: { service: string; window?: number }[] = [];
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) await sleep(r.delaySeconds);
    const read = parseHealth((await remote.run(healthProbeScript(checks))).stdout.toString('utf8'), checks);
    rows = Array.isArray(read) ? read.filter((x) => names.includes(x.service)) : [];
    if (rows.length === names.length && rows.every((x) => x.healthy)) return { ok: true, rows, attempts: attempt, note: '' };
    // A service missing from the reading is unhealthy too; its window is the override's, if any.
    bad = names.filter((n) => !rows.find((x) => x.service === n)?.healthy).map((n) => ({ service: n, window: windowOf(n, rows.find((x) => x.service === n)?.window, r.windows ?? {}) }));
    if (!stillWaiting(bad, attempt, r.retries, (performance.now() - started) / 1000)) return { ok: false, rows, attempts: attempt, note: windowNote(bad) };
  }
}

export const unhealthy = (rows: ServiceHealth[]) => rows.filter((x) => !x.healthy).map((x) => `${x.service}: ${x.problem ?? 'unhealthy'}`).join('; ') || 'no health reading';

async function record(remote: Remote, r: GatedRollout, outcome: DeployRecord['outcome'], problem?: string, note?: string): Promise<void> {
  await recordRun(remote, { user: r.user, action: r.action, outcome, services: r.changes.map(({ name, from, to }) => ({ name, from, to })), ...(problem ? { problem } : {}), ...(note ? { note } : {}) });
}

/**
 * `docker service update` for one change, then the wait. Prints @@applied
 * when the update reached the swarm: the CLI succeeded, or it failed yet
 * the spec changed anyway (a connection lost after the manager took it).
 * Exits with the update's status, or the wait's (3).
 */
function updateCommand(c: ServiceChange, timeoutSeconds: number) {
  return sh`before=$(docker service inspect --format '{{json .Spec}}' ${c.name}) || exit $?
if docker service update --detach --no-resolve-image ${c.args} ${c.name} >/dev/null; then echo @@applied; else
  rc=$?
  [ "$(docker service inspect --format '{{json .Spec}}' ${c.name} 2>/dev/null)" != "$before" ] && echo @@applied
  exit $rc
fi
${convergeWait(sh`${c.name}`, sh`${c.name}`, Math.max(timeoutSeconds, c.window ?? 0))}`;
}

/**
 * A health-gated rollout on a manager: under the deploy lock, each service
 * is updated to its pinned image with its update order and waited for; then
 * the health gate. Any failure rolls back every service this run updated
 * (only those whose update reached the swarm: rolling back one whose update
 * was refused would return it to the spec before its previous deploy),
 * waits until the old versions are healthy again, logs the run and fails
 * naming what failed. Success is logged too (`deploy.ts --history`).
 */
export async function gatedRollout(remote: Remote, r: GatedRollout): Promise<RolloutResult> {
  return withDeployLock(remote, r, async (lock) => {
    const updated: string[] = [];
    let problem: string | undefined;
    for (const c of r.changes) {
      const u = await remote.run(updateCommand(c, r.timeoutSeconds));
      if (u.stdout.toString('utf8').includes('@@applied')) updated.push(c.name);
      if (u.code !== 0) {
        // A service with a healthcheck that never passes fails here (Swarm replaces the unhealthy task, the update pauses).
        problem = `${c.name}: the rollout failed${c.window !== undefined ? ` (its health window: ${c.window} s)` : ''}:\n${u.stderr.toString('utf8').trim()}`;
        break;
      }
    }
    const names = r.changes.map((c) => c.name);
    if (!problem) {
      const gate = await healthGate(remote, names, r);
      if (gate.ok) {
        await record(remote, r, 'ok', undefined, lockNote(lock).note);
        return { services: r.changes.map(({ name, from, to }) => ({ name, from, to })), health: gate.rows };
      }
      problem = `health check failed after ${gate.attempts} attempts${gate.note}: ${unhealthy(gate.rows)}`;
    }
    const plan = r.changes.map((c) => `${c.name} -> ${c.to}${c.order ? ` (${c.order.order}: ${c.order.reason})` : ''}`).join('; ');
    if (updated.length === 0) {
      await record(remote, r, 'failed', problem, lockNote(lock).note);
      throw new OpFailure(`${problem}\nno service was changed, so none is rolled back\nthe run: ${plan}`);
    }
    const back = await remote.run(rollbackServices(updated, r.timeoutSeconds));
    const after = back.code === 0 ? await healthGate(remote, updated, r) : { ok: false, rows: [] };
    const how = back.code !== 0 ? `rolling back failed too:\n${back.stderr.toString('utf8').trim()}` : after.ok ? `rolled back ${updated.join(', ')}: the previous version is healthy again` : `rolled back ${updated.join(', ')}, but the previous version is not healthy: ${unhealthy(after.rows)}`;
    await record(remote, r, back.code === 0 && after.ok ? 'rolled back' : 'failed', problem, lockNote(lock).note);
    throw new OpFailure(`${problem}\n${how}\nthe run: ${plan}`);
  });
}
