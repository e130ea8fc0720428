import { stringify } from 'yaml';

/** Where stacks/monitoring.yml mounts the node's root file system (read-only) in Promtail's task. */
export const PROMTAIL_HOST_MOUNT = '/host';

export interface PromtailInputs {
  /** The node's Docker data root (`docker info`'s DockerRootDir): its containers/ holds each container's JSON log. */
  dockerRoot: string;
}

/**
 * One node's Promtail config.yml: the system's log files and Docker's
 * container logs, pushed to Loki. The container logs are read under the
 * node's own Docker root, through the read-only mount of the node's /:
 * one global service cannot bind a per-node path (Swarm's mount templates
 * know the node's hostname and id, not its facts), and a NAS keeps its
 * Docker root under /volume1/@docker, where a bind of /var/lib/docker would
 * fail the task ("bind source path does not exist").
 */
export function renderPromtailConfig(i: PromtailInputs): string {
  const under = (p: string) => `${PROMTAIL_HOST_MOUNT}${p}`;
  const doc = {
    server: { http_listen_port: 9080 },
    positions: { filename: '/tmp/positions.yaml' },
    clients: [{ url: 'http://loki:3100/loki/api/v1/push' }],
    scrape_configs: [
      { job_name: 'system', static_configs: [{ targets: ['localhost'], labels: { job: 'varlogs', __path__: under('/var/log/*.log') } }] },
      {
        job_name: 'containers',
        static_configs: [{ targets: ['localhost'], labels: { job: 'containers', __path__: under(`${i.dockerRoot.replace(/\/+$/, '')}/containers/*/*-json.log`) } }],
        pipeline_stages: [{ docker: {} }],
      },
    ],
  };
  return `# Written by rigger's monitoring role from this node's facts: edit the role, not this file.\n${stringify(doc, { lineWidth: 0 })}`;
}
