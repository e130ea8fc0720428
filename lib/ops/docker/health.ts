import { z } from '../../shell/zod.ts';
import { Command, raw, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { alignColumns } from '../../shell/columns.ts';
import { specHealthWindow } from './health-window.ts';
import { describeOverride, OVERRIDES_LIST, parseOverrideLines, type ScaleOverride } from './scale-override.ts';

export const healthCheckSchema = z
  .object({
    service: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    path: z.string().startsWith('/').default('/'),
  })
  .strict();

export interface ServiceHealth {
  service: string;
  running: number;
  desired: number;
  /** One probe per node that runs a task of the service: "node addr status". */
  http: { node: string; url: string; status: number }[];
  healthy: boolean;
  problem?: string;
  /** An operator's scale (playbooks/scale.ts): at 0 replicas there is nothing to ask over HTTP, and that is intended. */
  scaled?: ScaleOverride;
  /** Its healthcheck's window in seconds (lib/ops/docker/health-window.ts), when it has one. */
  window?: number;
}

const SERVICE_MARK = '@@service';
const HEALTHCHECK_MARK = '@@healthcheck';
const SCALE_MARK = '@@scale';

/**
 * Reads every service's replicas and, for the services with an HTTP check,
 * asks each node that runs one of its tasks (right for both host-mode
 * ports and the routing mesh). Runs on a manager.
 */
export function healthProbeScript(checks: z.output<typeof healthCheckSchema>[]) {
  const lines = checks.map(
    (c) => sh`echo ${`${SERVICE_MARK} ${c.service}`}
for node in $(docker service ps ${c.service} --filter desired-state=running --format '{{.Node}}' 2>/dev/null | sort -u); do
  addr=$(docker node inspect --format '{{.Status.Addr}}' "$node")
  case "$addr" in ''|0.0.0.0) addr=$(docker node inspect --format '{{.ManagerStatus.Addr}}' "$node" | cut -d: -f1) ;; esac
  # The path stays outside the double quotes: it is quoted for a bare word, where '...' is syntax, not text.
  url="http://$addr:"${String(c.port)}${c.path}
  code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true)
  echo "$node $url \${code:-000}"
done`,
  );
  // Each service's healthcheck as deployed: its window is how long a wait on it lasts at least.
  return sh`docker service ls --format '{{.Name}} {{.Replicas}}' 2>&1 || echo @@error
ids=$(docker service ls -q 2>/dev/null); [ -z "$ids" ] || docker service inspect --format ${`${HEALTHCHECK_MARK} {{.Spec.Name}} {{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}`} $ids 2>/dev/null || true
{ ${raw(OVERRIDES_LIST)}; } 2>/dev/null | sed 's/^/${raw(SCALE_MARK)} /'
${lines.length ? Command.join(lines, '\n') : sh`:`}`;
}

export function parseHealth(text: string, checks: z.output<typeof healthCheckSchema>[]): ServiceHealth[] | { error: string } {
  const [list = '', ...sections] = text.split(`${SERVICE_MARK} `);
  if (list.includes('@@error')) return { error: list.replace('@@error', '').trim() };
  const rows = new Map<string, ServiceHealth>();
  const windows = new Map<string, number>();
  const scales = new Map<string, ScaleOverride>();
  for (const line of list.split('\n')) {
    if (line.startsWith(`${SCALE_MARK} `)) {
      for (const [name, o] of parseOverrideLines([line.slice(SCALE_MARK.length + 1)])) scales.set(name, o);
      continue;
    }
    if (line.startsWith(`${HEALTHCHECK_MARK} `)) {
      const [, name = '', ...json] = line.trim().split(' ');
      try {
        const window = specHealthWindow(JSON.parse(json.join(' ') || 'null') as Parameters<typeof specHealthWindow>[0]);
        if (window !== undefined) windows.set(name, window);
      } catch {
        // An unreadable healthcheck: no window, the fixed waits hold for it.
      }
      continue;
    }
    const m = /^(\S+) (\d+)\/(\d+)/.exec(line.trim());
    if (!m) continue;
    const running = Number(m[2]);
    const desired = Number(m[3]);
    rows.set(m[1]!, { service: m[1]!, running, desired, http: [], healthy: running === desired, ...(running !== desired ? { problem: `${running}/${desired} replicas running` } : {}) });
  }
  for (const section of sections) {
    const [name = '', ...probes] = section.split('\n');
    const check = checks.find((c) => c.service === name.trim());
    if (!check) continue;
    const row = rows.get(check.service) ?? { service: check.service, running: 0, desired: 0, http: [], healthy: false, problem: 'no such service' };
    // Scaled to 0 by an operator and at 0: no task to ask, as intended.
    if (scales.get(check.service)?.replicas === 0 && row.desired === 0 && row.running === 0 && rows.has(check.service)) continue;
    for (const p of probes.filter((l) => l.trim())) {
      const [node = '', url = '', code = '000'] = p.trim().split(' ');
      row.http.push({ node, url, status: Number(code) });
    }
    const bad = row.http.filter((x) => x.status < 200 || x.status >= 400);
    if (row.http.length === 0 && row.healthy) Object.assign(row, { healthy: false, problem: 'no running task to check over HTTP' });
    else if (bad.length) Object.assign(row, { healthy: false, problem: [row.problem, ...bad.map((b) => `${b.url} answered ${b.status || 'nothing'}`)].filter(Boolean).join('; ') });
    rows.set(check.service, row);
  }
  for (const [name, o] of scales) {
    const row = rows.get(name);
    if (row) row.scaled = o;
  }
  for (const [name, window] of windows) {
    const row = rows.get(name);
    if (row) row.window = window;
  }
  return [...rows.values()].sort((a, b) => a.service.localeCompare(b.service));
}

/** A per-service table: replicas, then each HTTP probe. */
export function healthTable(rows: ServiceHealth[]): string {
  const lines = rows.map((r) => [r.healthy ? 'ok' : 'FAIL', r.service, `${r.running}/${r.desired}`, r.http.map((h) => `${h.status} ${h.url}`).join(', ') || '-', r.problem ?? (r.scaled ? describeOverride(r.scaled) : '')]);
  return alignColumns([['', 'service', 'replicas', 'http', 'problem'], ...lines]);
}

/**
 * Reads service health; never fails by itself, so its rows reach the
 * report even when something is down: the task decides with
 * `failedWhen: (rows) => !allHealthy(rows)` and retries with `until`.
 */
export const serviceHealth = defineOp({
  kind: 'docker.health',
  schema: z.object({ checks: z.array(healthCheckSchema).default([]) }).strict(),
  describe: (p) => `service health (${p.checks.length} HTTP checks)`,
  readOnly: true,
  probe: (p) => ({ command: healthProbeScript(p.checks), parse: (r: ExecResult) => parseHealth(r.stdout.toString('utf8'), p.checks) }),
  decide: (_p, rows: ServiceHealth[] | { error: string }): Decision<ServiceHealth[]> => {
    if (!Array.isArray(rows)) return { kind: 'fail', reason: `cannot list services: ${rows.error}` };
    const bad = rows.filter((r) => !r.healthy);
    const summary = `${rows.length - bad.length}/${rows.length} services healthy`;
    return { kind: 'ok', result: rows, msg: bad.length ? `${summary}: ${bad.map((b) => `${b.service}: ${b.problem}`).join('; ')}` : summary };
  },
});

export const allHealthy = (rows: ServiceHealth[]) => rows.every((r) => r.healthy);
