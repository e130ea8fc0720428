import { Secret, z } from 'rigger-ops';
import { stackName } from 'rigger-ops/lib/ops/docker/stack';
import { stacksDefaults } from '../stacks/index.ts';
import { alertSchema, duration, OPERATOR_ALERTS } from './alerts.ts';
import { ruleProblems } from './rules.ts';

/** The services of stacks/monitoring.yml. */
export const MONITORING_SERVICES = ['prometheus', 'alertmanager', 'blackbox-exporter', 'node-exporter', 'postgres-exporter', 'loki', 'promtail', 'grafana', 'cadvisor', 'dcgm-exporter'] as const;

/**
 * The monitoring role's variables: the operators' values as defaults (their
 * rules, 15 s scrapes, 30 days of retention, Slack). The stacks role's
 * variables it shares (images, endpoint and publish modes, health checks)
 * are the same declarations, picked from its schema.
 */
export const monitoringFields = stacksDefaults
  .pick({ stacks: true, stack_images: true, service_endpoint_mode: true, service_publish_mode: true, stack_timeout_seconds: true, health_checks: true })
  .extend({
    /** Deploy the monitoring stack (site.ts): off unless the inventory turns it on (homelab.yml and the lab's do). */
    monitoring_enabled: z.boolean().default(false),
    /** The stack op's own name rule: the role also puts it in the reload handlers' docker filter. */
    monitoring_stack_name: stackName.default('monitoring'),
    monitoring_stack_file: z.string().default('stacks/monitoring.yml'),
    /** On the first manager: Prometheus's, Alertmanager's, Grafana's, Loki's and Promtail's files, bind-mounted into their services. */
    monitoring_config_dir: z.string().startsWith('/').default('/opt/monitoring'),
    /** Services of the stack not to run (the lab: those whose images Debian does not package). */
    monitoring_skip_services: z.array(z.enum(MONITORING_SERVICES)).default([]),
    monitoring_retention: duration.default('30d'),
    monitoring_scrape_interval: duration.default('15s'),
    monitoring_evaluation_interval: duration.default('15s'),
    /** Every rule group's evaluation interval (the operators' 30 s). */
    monitoring_rule_interval: duration.default('30s'),
    monitoring_external_labels: z.record(z.string(), z.string()).default({ cluster: 'vibe-coding-mcp', environment: 'production' }),
    /** The alert rules (name -> rule): the operators' file, corrected where it was wrong. */
    monitoring_alerts: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an alert name: letters, digits, _'), alertSchema).default(OPERATOR_ALERTS),
    /** Per-rule threshold overrides (name -> value put in the rule's ${threshold}). */
    monitoring_thresholds: z.record(z.string(), z.union([z.number(), z.string().min(1)])).default({}),
    /** Per-rule `for:` overrides (name -> duration): how the lab shortens them. */
    monitoring_durations: z.record(z.string(), duration).default({}),
    /**
     * The file systems DiskSpaceLow watches on this host, as node-exporter names their mount points
     * (the NAS's data volume, /volume1, besides /). A host variable: the rule watches every host's list.
     */
    monitoring_disk_mountpoints: z.array(z.string().startsWith('/')).min(1).default(['/']),
    /** Replaced by monitoring_disk_mountpoints: refused with the line to write instead (below), never silently ignored. */
    monitoring_disk_mountpoint: z.unknown().optional(),
    monitoring_node_exporter_port: z.number().int().min(1).max(65535).default(9100),
    /** The database the PostgreSQL exporter reads; its password is the swarm secret the database itself uses. null: no exporter. */
    monitoring_postgres: z
      .object({ host: z.string().min(1), database: z.string().min(1), user: z.string().min(1), password_secret: z.string().min(1) })
      .strict()
      .nullable()
      .default({ host: 'gateway_postgres', database: 'vibedb', user: 'vibe', password_secret: 'postgres_password' }),
    /** Slack notifications: the incoming-webhook URL must be a !vault value. */
    monitoring_slack: z
      .object({ webhook_url: z.instanceof(Secret, { message: 'the Slack webhook URL must be a !vault value, never plain text' }), channel: z.string().default('#alerts') })
      .strict()
      .optional(),
    /**
     * E-mail notifications beside Slack (the operators' monitor.sh mails ALERT_EMAIL admin@vibe.local:
     * ../shared/operators/000 section 6.4). The SMTP password must be a !vault value: Alertmanager reads it
     * from a root-written file readable by it alone, never from its configuration.
     */
    monitoring_email: z
      .object({
        to: z.array(z.email()).min(1).default(['admin@vibe.local']),
        from: z.email(),
        /** The SMTP server, HOST:PORT (Alertmanager refuses one without a port). */
        smarthost: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'HOST:PORT, as Alertmanager takes it'),
        auth_username: z.string().min(1).optional(),
        auth_password: z.instanceof(Secret, { message: 'the SMTP password must be a !vault value, never plain text' }).optional(),
        /** STARTTLS required (Alertmanager's default); false only for a relay on a trusted network. */
        require_tls: z.boolean().default(true),
      })
      .strict()
      .refine((e) => (e.auth_username === undefined) === (e.auth_password === undefined), { message: 'give auth_username and auth_password together, or neither' })
      .optional(),
    /** Webhook receivers (Alertmanager's webhook format), with resolved notifications. */
    monitoring_webhook_urls: z.array(z.url()).default([]),
    monitoring_group_wait: duration.default('30s'),
    monitoring_group_interval: duration.default('5m'),
    monitoring_repeat_interval: duration.default('4h'),
    /** Where alerts.ts reaches Alertmanager's API, from the first manager (its published port). */
    monitoring_alertmanager_url: z.url().default('http://127.0.0.1:9093'),
    /** Where alerts.ts --dead-rules reaches Prometheus's API, from the first manager (its published port). */
    monitoring_prometheus_url: z.url().default('http://127.0.0.1:9090'),
  });

/** The fields, with every rule's expression checked (zod cannot pick fields of a refined object: alerts.ts picks from monitoringFields). */
export const monitoringDefaults = monitoringFields.superRefine((v, ctx) => {
    if (v.monitoring_disk_mountpoint !== undefined) {
      const was = JSON.stringify(v.monitoring_disk_mountpoint);
      ctx.addIssue({ code: 'custom', path: ['monitoring_disk_mountpoint'], message: `monitoring_disk_mountpoint is now monitoring_disk_mountpoints, a list per host: write monitoring_disk_mountpoints: [${was}] (and the NAS's data volume, e.g. /volume1, on its host)` });
    }
    // Each problem is reported against the variable that produced it, so the error names that inventory line.
    for (const problem of ruleProblems({ alerts: v.monitoring_alerts, thresholds: v.monitoring_thresholds, durations: v.monitoring_durations, mountpoints: v.monitoring_disk_mountpoints, interval: v.monitoring_rule_interval })) {
      const rule = /^(?:rule )?([A-Za-z_][A-Za-z0-9_]*)/.exec(problem)?.[1] ?? '';
      const from = rule in v.monitoring_durations && !(rule in v.monitoring_thresholds) ? 'monitoring_durations' : rule in v.monitoring_thresholds ? 'monitoring_thresholds' : 'monitoring_alerts';
      ctx.addIssue({ code: 'custom', path: [from, rule], message: problem });
    }
  });

export type MonitoringVars = z.output<typeof monitoringDefaults>;
