import { z } from 'rigger-ops';

/** A Prometheus duration: 30s, 5m, 1h30m. */
export const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, 'a Prometheus duration such as 30s, 5m or 1h');

/**
 * One alert rule. `expr` may hold `${threshold}` (replaced by `threshold`,
 * or by the inventory's monitoring_thresholds override) and `${mountpoints}`
 * (every host's monitoring_disk_mountpoints as one regex, for `=~`), so an
 * inventory changes a number or a mount without restating the expression.
 */
export const alertSchema = z
  .object({
    group: z.string().min(1),
    expr: z.string().min(1),
    threshold: z.union([z.number(), z.string()]).optional(),
    for: duration,
    severity: z.enum(['info', 'warning', 'critical']),
    team: z.string().min(1),
    summary: z.string().min(1),
    description: z.string().min(1),
  })
  .strict();

export type Alert = z.output<typeof alertSchema>;

/**
 * The operators' rule file (/opt/prometheus/config/alerts.yml in their
 * design), with their names, thresholds, durations and severities, less
 * HighBuildFailureRate (no metric source: Gitea exports no build counts,
 * docs/monitoring.md says what would bring it back). Five expressions differ
 * from the design, each for a reason docs/monitoring.md gives: DiskSpaceLow
 * (every data mount, the NAS's /volume1 too, not / alone),
 * PostgreSQLSlowQueries (theirs is not PromQL), PostgreSQLHighConnections
 * (theirs divides series with different labels, so it matches nothing),
 * GPUMemoryHigh (DCGM exports used and free memory, not a total), and
 * ServiceDown is added (the second design's service-health rule: an HTTP
 * probe of each health-checked service). Descriptions do not repeat the
 * threshold, so changing one changes one line of the rule file.
 */
export const OPERATOR_ALERTS: Record<string, Alert> = {
  HighCPUUsage: {
    group: 'system_alerts',
    expr: '100 - (avg by (instance) (irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > ${threshold}',
    threshold: 80,
    for: '10m',
    severity: 'warning',
    team: 'devops',
    summary: 'High CPU usage on {{ $labels.instance }}',
    description: 'CPU usage has been above the threshold for the rule\'s duration. Current value: {{ $value }}%',
  },
  HighMemoryUsage: {
    group: 'system_alerts',
    expr: '(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100 > ${threshold}',
    threshold: 85,
    for: '5m',
    severity: 'warning',
    team: 'devops',
    summary: 'High memory usage on {{ $labels.instance }}',
    description: 'Memory usage has been above the threshold for the rule\'s duration. Current value: {{ $value }}%',
  },
  DiskSpaceLow: {
    group: 'system_alerts',
    expr: '(node_filesystem_avail_bytes{mountpoint=~"${mountpoints}"} / node_filesystem_size_bytes{mountpoint=~"${mountpoints}"}) * 100 < ${threshold}',
    threshold: 15,
    for: '10m',
    severity: 'critical',
    team: 'devops',
    summary: 'Low disk space on {{ $labels.instance }}',
    description: 'Free disk space is below the threshold on {{ $labels.device }}. Current value: {{ $value }}%',
  },
  ContainerDown: {
    group: 'system_alerts',
    expr: 'up == 0',
    for: '5m',
    severity: 'critical',
    team: 'devops',
    summary: 'Container {{ $labels.instance }} is down',
    description: 'Its metrics endpoint has not answered for the rule\'s duration.',
  },
  ServiceDown: {
    group: 'system_alerts',
    expr: 'probe_success{job="services"} == 0',
    for: '3m',
    severity: 'critical',
    team: 'devops',
    summary: 'Service {{ $labels.instance }} is down',
    description: 'Its health endpoint has not answered for the rule\'s duration.',
  },
  SGLangServiceDown: {
    group: 'ai_service_alerts',
    expr: 'up{job="sglang"} == 0',
    for: '3m',
    severity: 'critical',
    team: 'ai',
    summary: 'SGLang service is down',
    description: 'SGLang has been unreachable for the rule\'s duration.',
  },
  GPUMemoryHigh: {
    group: 'ai_service_alerts',
    expr: 'DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) * 100 > ${threshold}',
    threshold: 90,
    for: '5m',
    severity: 'warning',
    team: 'ai',
    summary: 'High GPU memory usage',
    description: 'GPU memory usage is above the threshold. Current value: {{ $value }}%',
  },
  PostgreSQLHighConnections: {
    group: 'database_alerts',
    expr: 'sum by (instance) (pg_stat_database_numbackends) / max by (instance) (pg_settings_max_connections) * 100 > ${threshold}',
    threshold: 80,
    for: '5m',
    severity: 'warning',
    team: 'data',
    summary: 'PostgreSQL high connection count',
    description: 'Connections are above the threshold share of max_connections. Current: {{ $value }}%',
  },
  PostgreSQLSlowQueries: {
    group: 'database_alerts',
    // Calls per second of the statements whose mean time over 5 minutes exceeds 1 s (pg_stat_statements, via postgres_exporter).
    expr: 'sum by (instance) (rate(pg_stat_statements_calls_total[5m]) and (rate(pg_stat_statements_seconds_total[5m]) / rate(pg_stat_statements_calls_total[5m]) > 1)) > ${threshold}',
    threshold: 10,
    for: '5m',
    severity: 'warning',
    team: 'data',
    summary: 'PostgreSQL slow queries detected',
    description: 'More queries per second than the threshold take over 1 s on average.',
  },
};
