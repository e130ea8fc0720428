import { defineRole, facts, handler, InputError, ops, quote, type HostContext } from 'rigger-ops';
import { onFirstManager } from '../common.ts';
import { renderAlertmanagerConfig } from './alertmanager.ts';
import { renderLokiConfig } from './loki.ts';
import { renderPromtailConfig } from './promtail.ts';
import { monitoringDefaults, monitoringFields, MONITORING_SERVICES, type MonitoringVars } from './defaults.ts';
import { renderRules } from './rules.ts';
import { probeTargets, renderPrometheusConfig, stackJobs } from './scrape.ts';
import { monitoringStack } from './stack.ts';

export { monitoringDefaults } from './defaults.ts';
export { monitoringStack } from './stack.ts';

type H = HostContext<MonitoringVars>;
/** A value as one shell word (lib/shell/quote.ts), for scripts written as text. */
const quoted = (value: string) => quote(value).toString('utf8');

const SLACK_URL_FILE = 'slack-webhook-url';
const SMTP_PASSWORD_FILE = 'smtp-password';
/** Grafana's files in the repository; the trailing slash copies the directory's contents (provisioning/, dashboards/). */
export const GRAFANA_FILES = 'monitoring/grafana/';
/** Where stacks/monitoring.yml mounts Loki's volume (loki_data). */
const LOKI_DATA = '/loki';
const running = (h: H) => (s: string) => !h.vars.monitoring_skip_services.includes(s as (typeof MONITORING_SERVICES)[number]);
/** The image a service of the monitoring stack runs, after the inventory's stack_images. */
const imageOf = (h: H, real: string) => h.vars.stack_images[real] ?? real;

/** prometheus.yml: its targets read from the inventory's stack files. */
function prometheusConfig(h: H): string {
  const v = h.vars;
  const nodes = h.groupHosts('all').map((name) => ({ name, address: String(h.hostVars(name).ansible_host ?? name) }));
  return renderPrometheusConfig({
    nodes,
    nodeExporterPort: v.monitoring_node_exporter_port,
    probes: probeTargets(v.health_checks, [...v.stacks.filter((s) => s.name !== v.monitoring_stack_name), monitoringStack(v)]),
    running: running(h),
    postgres: v.monitoring_postgres !== null,
    stackJobs: stackJobs(v.stacks.filter((s) => s.name !== v.monitoring_stack_name)),
    scrapeInterval: v.monitoring_scrape_interval,
    evaluationInterval: v.monitoring_evaluation_interval,
    externalLabels: v.monitoring_external_labels,
  });
}

/**
 * Every host's monitoring_disk_mountpoints: the rule file is written once, on
 * the manager, but the NAS's /volume1 is the data host's variable. Each host's
 * list was checked by this role's schema where the role ran on that host.
 */
export function allMountpoints(h: Pick<H, 'groupHosts' | 'hostVars'>): string[] {
  const field = monitoringFields.shape.monitoring_disk_mountpoints;
  return [
    ...new Set(
      h.groupHosts('all').flatMap((name) => {
        // A host outside the monitoring play was not checked by its schema: a bad value is named here, not thrown raw.
        const r = field.safeParse(h.hostVars(name).monitoring_disk_mountpoints);
        if (!r.success) throw new InputError('inventory', `${name}: monitoring_disk_mountpoints: ${r.error.issues.map((i) => i.message).join('; ')}`);
        return r.data;
      }),
    ),
  ];
}

/** The rule file, from the inventory's alerts, thresholds, durations and mount points (no file read). */
const alertRules = (h: H): string =>
  renderRules({
    alerts: h.vars.monitoring_alerts,
    thresholds: h.vars.monitoring_thresholds,
    durations: h.vars.monitoring_durations,
    mountpoints: allMountpoints(h),
    interval: h.vars.monitoring_rule_interval,
  });

/** The e-mail receiver: the password by its file's path in Alertmanager's container, never its value. */
const emailReceiver = (e: NonNullable<MonitoringVars['monitoring_email']>) => ({
  to: e.to,
  from: e.from,
  smarthost: e.smarthost,
  requireTls: e.require_tls,
  ...(e.auth_username !== undefined ? { auth: { username: e.auth_username, passwordFile: `/etc/alertmanager/${SMTP_PASSWORD_FILE}` } } : {}),
});

/** alertmanager.yml from the inventory's variables (no file read). */
export const alertmanagerConfigOf = (v: MonitoringVars) =>
  renderAlertmanagerConfig({
    ...(v.monitoring_slack ? { slack: { channel: v.monitoring_slack.channel, urlFile: `/etc/alertmanager/${SLACK_URL_FILE}` } } : {}),
    ...(v.monitoring_email ? { email: emailReceiver(v.monitoring_email) } : {}),
    webhooks: v.monitoring_webhook_urls,
    groupWait: v.monitoring_group_wait,
    groupInterval: v.monitoring_group_interval,
    repeatInterval: v.monitoring_repeat_interval,
  });
const alertmanagerFile = (h: H) => alertmanagerConfigOf(h.vars);

/**
 * SIGHUP makes Prometheus and Alertmanager reread their files: the service
 * keeps its task (no restart, no new spec). Handlers see the host's
 * variables untyped, hence the default repeated here.
 */
const reload = (service: string) =>
  handler({
    name: `reload ${service}`,
    op: (h) =>
      ops.shell({
        // Quoted: handlers read the variable unchecked by the role's schema.
        script: `ids=$(docker ps -q --filter ${quoted(`label=com.docker.swarm.service.name=${String(h.allVars.monitoring_stack_name ?? 'monitoring')}_${service}`)})\nif [ -n "$ids" ]; then docker kill -s HUP $ids >/dev/null && echo "reloaded $ids"; else echo "not running yet: it reads the files when it starts"; fi`,
      }),
  });
const reloadPrometheus = reload('prometheus');
const reloadAlertmanager = reload('alertmanager');

/**
 * Monitoring: Prometheus's configuration and rules, Alertmanager's routes,
 * Grafana's provisioning, Loki's and Promtail's configuration generated from the
 * inventory, checked with promtool and amtool, written on the first
 * manager (a change reloads only Prometheus or Alertmanager), then the
 * monitoring stack deployed.
 */
export const monitoring = defineRole({
  name: 'monitoring',
  defaults: monitoringDefaults,
  build: ({ task }) => {
    const onManager = onFirstManager('the monitoring stack is deployed');
    const on = { when: (h: H) => h.vars.monitoring_enabled && onManager.when(h), whenReason: (h: H) => (h.vars.monitoring_enabled ? onManager.whenReason : 'monitoring_enabled is false') };
    const dir = (h: H, sub = '') => `${h.vars.monitoring_config_dir}${sub}`;
    return {
      tasks: [
        task({
          name: 'monitoring configuration checked (promtool, amtool)',
          ...on,
          op: (h) =>
            ops.monitoring.check({
              prometheusImage: imageOf(h, 'prom/prometheus:v2.55.1'),
              prometheus: { 'prometheus.yml': prometheusConfig(h), 'rules/alerts.yml': alertRules(h) },
              ...(running(h)('alertmanager') ? { alertmanagerImage: imageOf(h, 'prom/alertmanager:v0.27.0'), alertmanager: alertmanagerFile(h) } : {}),
            }),
        }),
        task({
          name: 'monitoring directories',
          ...on,
          op: (h) => ops.each('directories', ['', '/prometheus', '/prometheus/rules', '/alertmanager', '/promtail', '/loki'].map((d) => ops.file({ path: dir(h, d), state: 'directory', mode: '0755' }))),
        }),
        task({ name: 'prometheus.yml', ...on, op: (h) => ops.copy({ path: dir(h, '/prometheus/prometheus.yml'), content: prometheusConfig(h), mode: '0644' }), notify: [reloadPrometheus] }),
        task({ name: 'alert rules', ...on, op: (h) => ops.copy({ path: dir(h, '/prometheus/rules/alerts.yml'), content: alertRules(h), mode: '0644' }), notify: [reloadPrometheus] }),
        task({ name: 'alertmanager.yml', ...on, op: (h) => ops.copy({ path: dir(h, '/alertmanager/alertmanager.yml'), content: alertmanagerFile(h), mode: '0644' }), notify: [reloadAlertmanager] }),
        task({
          name: 'Slack webhook URL',
          when: (h: H) => on.when(h) && h.vars.monitoring_slack !== undefined,
          whenReason: 'no monitoring_slack',
          // Alertmanager's image runs as nobody; the URL is readable by it alone.
          op: (h) => ops.copy({ path: dir(h, `/alertmanager/${SLACK_URL_FILE}`), content: h.vars.monitoring_slack!.webhook_url, mode: '0400', owner: 'nobody' }),
          notify: [reloadAlertmanager],
        }),
        task({
          name: 'SMTP password',
          when: (h: H) => on.when(h) && h.vars.monitoring_email?.auth_password !== undefined,
          whenReason: 'no monitoring_email with auth_password',
          // As the Slack URL: a Secret's content, readable by Alertmanager's user (nobody) alone, shown as *** in every output.
          op: (h) => ops.copy({ path: dir(h, `/alertmanager/${SMTP_PASSWORD_FILE}`), content: h.vars.monitoring_email!.auth_password!, mode: '0400', owner: 'nobody' }),
          notify: [reloadAlertmanager],
        }),
        task({ name: 'Grafana provisioning and dashboards', ...on, op: (h) => ops.copyTree({ path: dir(h, '/grafana'), src: GRAFANA_FILES }) }),
        task({ name: 'Loki configuration', ...on, op: (h) => ops.copy({ path: dir(h, '/loki/config.yml'), content: renderLokiConfig({ retention: h.vars.monitoring_retention, dataDir: LOKI_DATA }), mode: '0644' }) }),
        task({
          name: 'Promtail configuration',
          // On every node: Promtail is global and bind-mounts this directory where its task runs; each node's
          // file names that node's Docker root (a NAS keeps it under /volume1/@docker).
          when: (h: H) => h.vars.monitoring_enabled && running(h)('promtail'),
          whenReason: (h: H) => (h.vars.monitoring_enabled ? 'promtail is in monitoring_skip_services' : 'monitoring_enabled is false'),
          op: (h) =>
            ops.each<unknown>('promtail', [ops.file({ path: dir(h, '/promtail'), state: 'directory', mode: '0755' }), ops.copy({ path: dir(h, '/promtail/config.yml'), content: renderPromtailConfig({ dockerRoot: h.fact(facts.dockerRoot) }), mode: '0644' })]),
        }),
        task({
          name: 'monitoring stack',
          ...on,
          op: (h) => {
            const v = h.vars;
            const { name, file, env, services } = monitoringStack(v);
            return ops.docker.stack({
              name,
              file,
              env,
              images: v.stack_images,
              services,
              timeoutSeconds: v.stack_timeout_seconds,
            });
          },
        }),
      ],
      handlers: [reloadPrometheus, reloadAlertmanager],
    };
  },
});
