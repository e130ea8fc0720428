import { stringify } from 'yaml';

export interface LokiInputs {
  /** How long logs are kept (the role's monitoring_retention, Prometheus's too). */
  retention: string;
  /** Where the stack mounts Loki's volume (stacks/monitoring.yml: loki_data). */
  dataDir: string;
}

/**
 * Loki's config.yml: one process on the manager (no ring to join), its
 * chunks and TSDB index on the filesystem of its volume, and the compactor
 * deleting what is older than the retention (Loki keeps everything unless
 * the compactor's retention is on; Loki 3 wants the delete requests' store
 * named with it).
 */
export function renderLokiConfig(i: LokiInputs): string {
  const doc = {
    auth_enabled: false,
    server: { http_listen_port: 3100 },
    common: {
      path_prefix: i.dataDir,
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
      storage: { filesystem: { chunks_directory: `${i.dataDir}/chunks`, rules_directory: `${i.dataDir}/rules` } },
    },
    schema_config: { configs: [{ from: '2024-01-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }] },
    compactor: { working_directory: `${i.dataDir}/compactor`, retention_enabled: true, delete_request_store: 'filesystem' },
    limits_config: { retention_period: i.retention },
  };
  return `# Written by rigger's monitoring role from the inventory: edit the inventory, not this file.\n${stringify(doc, { lineWidth: 0 })}`;
}
