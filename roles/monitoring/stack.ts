import { MONITORING_SERVICES, type MonitoringVars } from './defaults.ts';

/** The monitoring stack as the role deploys it: its name, file, ${VAR}s and the services that run. */
export interface MonitoringStack {
  name: string;
  file: string;
  env: Record<string, string>;
  services: string[];
}

/**
 * stacks/monitoring.yml with the inventory's values: one place for the
 * role's deploy and for the guards that read the real cluster's stacks
 * (the rehearsal's services, the backup coverage of its volumes).
 */
export function monitoringStack(v: MonitoringVars): MonitoringStack {
  const pg = v.monitoring_postgres;
  const skipped = new Set<string>([...v.monitoring_skip_services, ...(pg === null ? ['postgres-exporter'] : [])]);
  return {
    name: v.monitoring_stack_name,
    file: v.monitoring_stack_file,
    env: {
      ENDPOINT_MODE: v.service_endpoint_mode,
      PUBLISH_MODE: v.service_publish_mode,
      CONFIG_DIR: v.monitoring_config_dir,
      RETENTION: v.monitoring_retention,
      NODE_EXPORTER_PORT: String(v.monitoring_node_exporter_port),
      PG_HOST: pg?.host ?? 'none',
      PG_DATABASE: pg?.database ?? 'none',
      PG_USER: pg?.user ?? 'none',
      PG_PASSWORD_SECRET: pg?.password_secret ?? 'none',
    },
    services: MONITORING_SERVICES.filter((s) => !skipped.has(s)),
  };
}
