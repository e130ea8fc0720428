/**
 * The pure decisions of a health-gated rollout: what Swarm's update states
 * mean, which update order a service can use, how an image is pinned, and
 * what the deploy run log says. No I/O here: the strategy and the ops call
 * these, and the unit tests feed them data.
 */

/**
 * Swarm's UpdateStatus.State values that end an update without the new spec
 * running: `paused` (the default failure_action), a rollback under way, a
 * paused rollback, and a finished rollback (replicas full, old spec).
 */
export const FAILED_UPDATE_STATES = ['paused', 'rollback_started', 'rollback_paused', 'rollback_completed'] as const;
/** States that are still moving towards the new spec. */
export const PENDING_UPDATE_STATES = ['updating'] as const;

export type UpdateVerdict = 'done' | 'pending' | 'failed';

/**
 * After an update: `done` when no update runs (or it completed), `pending`
 * while it runs, `failed` for any paused or rolled-back state. After a
 * rollback rigger asked for, `rollback_completed` is the goal, not a failure.
 */
export function updateVerdict(state: string | undefined, expect: 'update' | 'rollback' = 'update'): UpdateVerdict {
  if (expect === 'rollback') {
    if (state === 'rollback_completed' || !state) return 'done';
    if (state === 'rollback_started') return 'pending';
    return state === 'rollback_paused' || state === 'paused' ? 'failed' : 'done';
  }
  if (!state || state === 'completed') return 'done';
  if ((PENDING_UPDATE_STATES as readonly string[]).includes(state)) return 'pending';
  return (FAILED_UPDATE_STATES as readonly string[]).includes(state) ? 'failed' : 'done';
}

/** The parts of a Swarm service spec the order decision reads. */
export interface SpecForOrder {
  TaskTemplate?: { ContainerSpec?: { Healthcheck?: { Test?: string[] } } };
  EndpointSpec?: { Ports?: { PublishMode?: string; PublishedPort?: number }[] };
}

export interface OrderDecision {
  order: 'start-first' | 'stop-first';
  reason: string;
}

/**
 * start-first only where it is safe and useful: the new task must be able to
 * bind its ports next to the old one (no host-mode port), and Swarm must be
 * able to tell when it is ready (a health check); stop-first otherwise.
 */
export function updateOrder(spec: SpecForOrder): OrderDecision {
  const hostPorts = (spec.EndpointSpec?.Ports ?? []).filter((p) => p.PublishMode === 'host').map((p) => p.PublishedPort);
  if (hostPorts.length) return { order: 'stop-first', reason: `it publishes port ${hostPorts.join(', ')} in host mode: a new task cannot bind it beside the old one on the same node` };
  const test = spec.TaskTemplate?.ContainerSpec?.Healthcheck?.Test;
  if (!test || test.length === 0 || test[0] === 'NONE') return { order: 'stop-first', reason: 'it has no health check: Swarm could not tell when a new task is ready to take over' };
  return { order: 'start-first', reason: 'it has a health check and no host-mode port: the new task starts and turns healthy before the old one stops' };
}

/** `repo:tag@sha256:…` from a reference and the digest its tag resolved to (a digest already in the reference is replaced). */
export function pinImage(ref: string, digest: string): string {
  return `${ref.replace(/@sha256:[0-9a-f]+$/, '')}@${digest}`;
}

/** The digest part of a pinned reference, or undefined for a bare tag. */
export const digestOf = (ref: string | undefined) => /@(sha256:[0-9a-f]{64})$/.exec(ref ?? '')?.[1];

/** One line of the run log on the first manager: who deployed what, when, and how it ended. */
export interface DeployRecord {
  at: string;
  user: string;
  /** deploy, rollback, ... */
  action: string;
  outcome: 'ok' | 'rolled back' | 'failed';
  services: { name: string; from: string; to: string }[];
  problem?: string;
  /** Something the run met on its way (a stale lock it took over). */
  note?: string;
}

/** The run log's lines, oldest first; unreadable lines are skipped (a partly written last line). */
export function parseHistory(text: string): DeployRecord[] {
  const out: DeployRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as DeployRecord);
    } catch {
      // a line cut short by a crash says nothing reliable
    }
  }
  return out;
}

/**
 * The image a service ran N good deploys ago: the `from` of its N-th most
 * recent successful change (1 = the one before the current).
 */
export function previousImage(history: DeployRecord[], service: string, n = 1): string | undefined {
  const changes = history.filter((r) => r.outcome === 'ok').flatMap((r) => r.services.filter((s) => s.name === service && s.from !== s.to));
  return changes.at(-n)?.from;
}

export function historyTable(history: DeployRecord[]): string[][] {
  return history.map((r) => [r.at, r.user, r.action, r.outcome, r.services.map((s) => `${s.name} ${shortImage(s.from)} -> ${shortImage(s.to)}`).join('; '), r.problem ?? r.note ?? '']);
}

/** `name:tag@sha256:abcdef123456`: the digest cut to 12 hex digits, enough to tell images apart in a table. */
export const shortImage = (ref: string) => ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, '@sha256:$1');
