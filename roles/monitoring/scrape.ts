import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { interpolate } from 'rigger-ops/lib/ops/docker/compose';

export interface ScrapeInputs {
  /** Every inventory host and the address its node exporter answers on. */
  nodes: { name: string; address: string }[];
  nodeExporterPort: number;
  /** The inventory's health_checks: each becomes an HTTP probe through the blackbox exporter. */
  probes: { service: string; port: number; path: string }[];
  /** The monitoring stack's services that run (those not in monitoring_skip_services). */
  running: (service: string) => boolean;
  postgres: boolean;
  /** Jobs found in the inventory's stacks (SGLang's metrics). */
  stackJobs: { job: string; target: string }[];
  scrapeInterval: string;
  evaluationInterval: string;
  externalLabels: Record<string, string>;
}

/**
 * Services of the inventory's stacks that expose Prometheus metrics, and on
 * which port. Grafana is not one: it is the monitoring stack's own, scraped
 * by its own job (a second "grafana" job would make promtool refuse the file).
 */
const METRICS_PORTS: Record<string, { job: string; port: number }> = {
  sglang: { job: 'sglang', port: 8000 },
};

/**
 * Scrape jobs derived from the stacks the inventory deploys: a service named
 * in METRICS_PORTS is scraped at STACK_SERVICE:PORT (its name on the overlay
 * networks), so no target is typed twice.
 */
type StackRef = { name: string; file: string; env?: Record<string, string> };

/** A stack file's services, or none when it cannot be read (the stacks role reports an unreadable compose file). */
function servicesOf(s: StackRef): Record<string, { ports?: unknown[] }> {
  try {
    // Interpolated first: a raw `mode: ${PUBLISH_MODE}` inside a flow map is not YAML.
    const text = interpolate(readFileSync(s.file, 'utf8'), s.env ?? {}).text;
    return (parse(text) as { services?: Record<string, { ports?: unknown[] }> } | null)?.services ?? {};
  } catch {
    return {};
  }
}

export function stackJobs(stacks: StackRef[]): { job: string; target: string }[] {
  const jobs: { job: string; target: string }[] = [];
  for (const s of stacks) {
    for (const name of Object.keys(servicesOf(s))) {
      const m = METRICS_PORTS[name];
      if (m) jobs.push({ job: m.job, target: `${s.name}_${name}:${m.port}` });
    }
  }
  return jobs;
}

/** A compose port entry as [published, target]: the long form, or "published:target" / "ip:published:target" with an optional /proto. */
function portPair(entry: unknown): [number, number] | undefined {
  if (entry && typeof entry === 'object') {
    const { published, target } = entry as { published?: unknown; target?: unknown };
    return published !== undefined && target !== undefined ? [Number(published), Number(target)] : undefined;
  }
  const parts = String(entry).split('/')[0]!.split(':');
  return parts.length >= 2 ? [Number(parts.at(-2)), Number(parts.at(-1))] : undefined;
}

/**
 * The health checks as the blackbox exporter reaches them. A check names the
 * port a service publishes on the nodes (health.ts calls NODE:PORT), but the
 * exporter calls the service by name on the overlay network, where only the
 * container's own port answers: Grafana published on 3001 listens on 3000.
 * A port the stack files do not publish is taken as the container's.
 */
export function probeTargets(probes: { service: string; port: number; path: string }[], stacks: StackRef[]): { service: string; port: number; path: string }[] {
  const published = new Map<string, Map<number, number>>();
  for (const s of stacks) {
    for (const [name, svc] of Object.entries(servicesOf(s))) {
      const pairs = (svc?.ports ?? []).map(portPair).filter((p): p is [number, number] => p !== undefined);
      published.set(`${s.name}_${name}`, new Map(pairs));
    }
  }
  return probes.map((p) => ({ ...p, port: published.get(p.service)?.get(p.port) ?? p.port }));
}

const staticJob = (job: string, targets: string[], extra: Record<string, unknown> = {}) => ({ job_name: job, static_configs: [{ targets }], ...extra });
/** A global service's tasks, one target each (Swarm's tasks.NAME DNS record). */
const tasksJob = (job: string, service: string, port: number) => ({ job_name: job, dns_sd_configs: [{ names: [`tasks.${service}`], type: 'A', port }] });

/** prometheus.yml: every target from the inventory's hosts, health checks and stacks. */
export function renderPrometheusConfig(i: ScrapeInputs): string {
  const jobs: unknown[] = [staticJob('prometheus', ['localhost:9090'])];
  if (i.running('alertmanager')) jobs.push(staticJob('alertmanager', ['alertmanager:9093']));
  if (i.running('node-exporter')) {
    jobs.push({
      job_name: 'node',
      static_configs: i.nodes.map((n) => ({ targets: [`${n.address}:${i.nodeExporterPort}`], labels: { node: n.name } })),
    });
  }
  if (i.postgres && i.running('postgres-exporter')) jobs.push(staticJob('postgres', ['postgres-exporter:9187']));
  if (i.probes.length && i.running('blackbox-exporter')) {
    jobs.push({
      job_name: 'services',
      metrics_path: '/probe',
      params: { module: ['http_2xx'] },
      static_configs: [{ targets: i.probes.map((p) => `http://${p.service}:${p.port}${p.path}`) }],
      relabel_configs: [
        { source_labels: ['__address__'], target_label: '__param_target' },
        { source_labels: ['__param_target'], regex: 'http://([^:/]+).*', target_label: 'instance' },
        { target_label: '__address__', replacement: 'blackbox-exporter:9115' },
      ],
    });
  }
  if (i.running('cadvisor')) jobs.push(tasksJob('cadvisor', 'cadvisor', 8080));
  if (i.running('dcgm-exporter')) jobs.push(tasksJob('dcgm', 'dcgm-exporter', 9400));
  if (i.running('loki')) jobs.push(staticJob('loki', ['loki:3100']));
  if (i.running('grafana')) jobs.push(staticJob('grafana', ['grafana:3000']));
  const byJob = new Map<string, string[]>();
  for (const j of i.stackJobs) byJob.set(j.job, [...(byJob.get(j.job) ?? []), j.target]);
  for (const [job, targets] of byJob) jobs.push(staticJob(job, targets));
  const doc = {
    global: { scrape_interval: i.scrapeInterval, evaluation_interval: i.evaluationInterval, external_labels: i.externalLabels },
    alerting: { alertmanagers: [{ static_configs: [{ targets: i.running('alertmanager') ? ['alertmanager:9093'] : [] }] }] },
    rule_files: ['rules/*.yml'],
    scrape_configs: jobs,
  };
  return `# Written by rigger's monitoring role from the inventory: edit the inventory, not this file.\n${stringify(doc, { lineWidth: 0 })}`;
}
