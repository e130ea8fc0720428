import { alignColumns } from '../shell/columns.ts';

/** One alert as Alertmanager's API v2 (GET /api/v2/alerts) returns it, the fields rigger reads. */
export interface ApiAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  status?: { state?: string; silencedBy?: string[] };
}

export function parseAlerts(json: string): ApiAlert[] {
  const data = JSON.parse(json) as unknown;
  if (!Array.isArray(data)) throw new Error(`Alertmanager did not answer with a list of alerts: ${json.slice(0, 200)}`);
  return data as ApiAlert[];
}

/** Active alerts that are neither silenced nor inhibited. */
export const firing = (alerts: ApiAlert[]) => alerts.filter((a) => (a.status?.state ?? 'active') === 'active');

export const critical = (alerts: ApiAlert[]) => firing(alerts).filter((a) => a.labels.severity === 'critical');

/** A table of the firing alerts, most severe first. */
export function alertTable(alerts: ApiAlert[]): string {
  const rank: Record<string, number> = { critical: 0, warning: 1, info: 2 };
  const rows = firing(alerts)
    .sort((a, b) => (rank[a.labels.severity ?? ''] ?? 3) - (rank[b.labels.severity ?? ''] ?? 3) || a.labels.alertname!.localeCompare(b.labels.alertname!))
    .map((a) => [a.labels.severity ?? '', a.labels.alertname ?? '', a.labels.instance ?? a.labels.node ?? '', a.startsAt, a.annotations?.summary ?? '']);
  if (rows.length === 0) return 'no alerts firing';
  return alignColumns([['severity', 'alert', 'instance', 'since', 'summary'], ...rows]);
}

/** Go-style durations for --for: 2h, 30m, 1h30m, 45s. */
export function parseDuration(text: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!m || !text.trim() || (!m[1] && !m[2] && !m[3])) return undefined;
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** The body of POST /api/v2/silences: every alert named NAME, from now for `ms`. */
export function silenceBody(name: string, ms: number, by: string, now = new Date()): string {
  return JSON.stringify({
    matchers: [{ name: 'alertname', value: name, isRegex: false, isEqual: true }],
    startsAt: now.toISOString(),
    endsAt: new Date(now.getTime() + ms).toISOString(),
    createdBy: by,
    comment: `silenced with rigger's alerts.ts by ${by}`,
  });
}
