/**
 * An operator's scale of a swarm service (playbooks/scale.ts): the replicas
 * they chose, why, who and since when, kept as labels on the service itself.
 *
 * Labels, not a file on the controller or a Swarm config object: the labels
 * travel with the service in the swarm's Raft store, so every manager and
 * every operator's machine sees them; the spec reads that every op already
 * makes (`docker service inspect`) carry them, so honouring them costs no
 * extra round trip; one `docker service update` changes the replicas and the
 * record together; and a service that is removed takes its override with it,
 * so none is left to go stale. `docker stack deploy` would drop them (it sets
 * a service's labels to the compose file's), so the stack op renders them
 * into the file it deploys, with the replicas (lib/ops/docker/stack.ts).
 */
import { isScalar, parseDocument } from '../../shell/yaml.ts';
import type { Compose } from './compose.ts';

export const SCALE_LABELS = {
  replicas: 'rigger.scale.replicas',
  reason: 'rigger.scale.reason',
  by: 'rigger.scale.by',
  since: 'rigger.scale.since',
} as const;

export interface ScaleOverride {
  replicas: number;
  reason: string;
  by: string;
  /** ISO 8601, UTC. */
  since: string;
}

/** The override a service's labels record, if any; a replicas label that is not a count is none (nothing to keep). */
export function overrideFromLabels(labels: Readonly<Record<string, string>> | undefined | null): ScaleOverride | undefined {
  const text = labels?.[SCALE_LABELS.replicas];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return { replicas: Number(text), reason: labels?.[SCALE_LABELS.reason] ?? '', by: labels?.[SCALE_LABELS.by] ?? 'unknown', since: labels?.[SCALE_LABELS.since] ?? '' };
}

/** The labels that record an override. */
export function overrideLabels(o: ScaleOverride): Record<string, string> {
  return { [SCALE_LABELS.replicas]: String(o.replicas), [SCALE_LABELS.reason]: o.reason, [SCALE_LABELS.by]: o.by, [SCALE_LABELS.since]: o.since };
}

export const isScaleLabel = (key: string) => (Object.values(SCALE_LABELS) as string[]).includes(key);

/** One line for people: "scaled to 0 by kim since 2026-12-07T09:00:00Z: GPU busy". */
export const describeOverride = (o: ScaleOverride) => `scaled to ${o.replicas} by ${o.by}${o.since ? ` since ${o.since}` : ''}: ${o.reason || '(no reason given)'}`;

/**
 * Lists every override on the swarm, one line each, "NAME {labels as JSON}",
 * for parseOverrideLines (run on a manager).
 */
export const OVERRIDES_LIST = `ids=$(docker service ls -q --filter label=${SCALE_LABELS.replicas}); [ -z "$ids" ] || docker service inspect --format '{{.Spec.Name}} {{json .Spec.Labels}}' $ids`;

/** OVERRIDES_LIST's lines (an optional mark before each name is left to the caller): service name -> override. */
export function parseOverrideLines(lines: Iterable<string>): Map<string, ScaleOverride> {
  const out = new Map<string, ScaleOverride>();
  for (const l of lines) {
    const [name = '', ...json] = l.trim().split(' ');
    try {
      const o = overrideFromLabels(JSON.parse(json.join(' ') || 'null') as Record<string, string> | null);
      if (name && o) out.set(name, o);
    } catch {
      // Unreadable labels: no override, the service is judged as any other.
    }
  }
  return out;
}

interface LiveSpec {
  Name?: string;
  Labels?: Record<string, string> | null;
}

/** Service name -> override, from live specs (`docker service inspect --format '{{json .Spec}}'`). */
export function overridesOf(specs: Iterable<[string, unknown]>): Map<string, ScaleOverride> {
  const out = new Map<string, ScaleOverride>();
  for (const [name, spec] of specs) {
    const o = overrideFromLabels((spec as LiveSpec | undefined)?.Labels);
    if (o) out.set(name, o);
  }
  return out;
}

/**
 * The stack's compose text and parsed form with each override's replicas and
 * labels in its service's `deploy:` (overrides are keyed by STACK_SERVICE),
 * so `docker stack deploy` sets the operator's count from the start: a deploy
 * never runs the service at the file's count, not even for a moment.
 */
export function withOverrides(stack: string, rendered: string, parsed: Compose, overrides: ReadonlyMap<string, ScaleOverride>): { rendered: string; parsed: Compose } {
  // A global service has no replica count to keep (scale.ts refuses one).
  const mine = Object.keys(parsed.services).filter((svc) => overrides.has(`${stack}_${svc}`) && parsed.services[svc]!.deploy?.mode !== 'global');
  if (mine.length === 0) return { rendered, parsed };
  const doc = parseDocument(rendered);
  const services = { ...parsed.services };
  for (const svc of mine) {
    const o = overrides.get(`${stack}_${svc}`)!;
    const def = services[svc]!;
    const labels = { ...labelMap(def.deploy?.labels), ...overrideLabels(o) };
    services[svc] = { ...def, deploy: { ...def.deploy, replicas: o.replicas, labels } } as typeof def;
    doc.setIn(['services', svc, 'deploy', 'replicas'], o.replicas);
    // A list form (["k=v"]) is replaced by the map form with the same labels: both mean the same to Docker.
    // Every value double-quoted: a plain 2026-12-07T09:00:00Z is a YAML timestamp to some parsers, and Docker takes only strings here.
    const node = doc.createNode(labels);
    for (const pair of node.items) if (isScalar(pair.value)) pair.value.type = 'QUOTE_DOUBLE';
    doc.setIn(['services', svc, 'deploy', 'labels'], node);
  }
  return { rendered: doc.toString({ lineWidth: 0 }), parsed: { ...parsed, services } as Compose };
}

/** Compose labels, in either of their forms, as a map. */
function labelMap(labels: unknown): Record<string, string> {
  if (Array.isArray(labels)) return Object.fromEntries(labels.map((l) => String(l)).map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
  if (labels && typeof labels === 'object') return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v ?? '')]));
  return {};
}
