// Issue 29 item 5: Promtail and cAdvisor bound /var/lib/docker, which a
// Synology (Container Manager's root is /volume1/@docker) does not have, so
// Swarm failed both global services' tasks on the NAS ("bind source path does
// not exist") and no log of the NAS's containers was read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { DEFAULT_DOCKER_ROOT, parseDockerRoot } from '../../lib/facts/docker.ts';
import { renderStack } from '../../lib/ops/docker/stack-file.ts';
import { monitoringDefaults } from '../../roles/monitoring/defaults.ts';
import { PROMTAIL_HOST_MOUNT, renderPromtailConfig } from '../../roles/monitoring/promtail.ts';
import { monitoringStack } from '../../roles/monitoring/stack.ts';

test("the docker root fact reads docker info's DockerRootDir, and the default where the engine does not answer", () => {
  assert.equal(parseDockerRoot('/volume1/@docker\n'), '/volume1/@docker');
  assert.equal(parseDockerRoot('/var/lib/docker\n'), '/var/lib/docker');
  assert.equal(parseDockerRoot(''), DEFAULT_DOCKER_ROOT);
  assert.equal(parseDockerRoot('Cannot connect to the Docker daemon'), DEFAULT_DOCKER_ROOT);
});

test("each node's Promtail config reads the container logs under that node's own Docker root, through the host mount", () => {
  const paths = (root: string) => {
    const doc = parse(renderPromtailConfig({ dockerRoot: root })) as { scrape_configs: { job_name: string; static_configs: { labels: { __path__: string } }[] }[] };
    return Object.fromEntries(doc.scrape_configs.map((j) => [j.job_name, j.static_configs[0]!.labels.__path__]));
  };
  assert.equal(paths('/volume1/@docker').containers, `${PROMTAIL_HOST_MOUNT}/volume1/@docker/containers/*/*-json.log`);
  assert.equal(paths('/var/lib/docker/').containers, `${PROMTAIL_HOST_MOUNT}/var/lib/docker/containers/*/*-json.log`);
  assert.equal(paths('/var/lib/docker').system, `${PROMTAIL_HOST_MOUNT}/var/log/*.log`);
});

test("the monitoring stack's global services bind only paths a Synology has (no /var/lib/docker), and Promtail gets the node's / where its config looks", () => {
  const v = monitoringDefaults.parse({ monitoring_enabled: true });
  const s = monitoringStack(v);
  const r = renderStack({ file: s.file, env: s.env, images: {} });
  assert.ok(!r.problems, JSON.stringify(r.problems));
  // What DSM 7 has at the top of its file system besides the data volume: no /var/lib/docker.
  const onDsm = (src: string) => ['/', '/sys', '/var/run', '/var/log', '/proc', '/dev'].includes(src) || src.startsWith(v.monitoring_config_dir);
  const sourceOf = (m: unknown) => (typeof m === 'string' ? m.split(':')[0]! : String((m as { source?: string }).source));
  for (const [name, svc] of Object.entries(r.compose.services)) {
    if ((svc.deploy as { mode?: string } | undefined)?.mode !== 'global') continue;
    for (const m of svc.volumes ?? []) {
      const src = sourceOf(m);
      if (!src.startsWith('/')) continue; // a named volume
      assert.ok(onDsm(src), `${name} binds ${src}, which a Synology does not have`);
    }
  }
  const promtail = r.compose.services.promtail!;
  const host = (promtail.volumes ?? []).find((m) => typeof m !== 'string' && (m as { target?: string }).target === PROMTAIL_HOST_MOUNT) as { source: string; read_only: boolean } | undefined;
  assert.deepEqual(host && { source: host.source, read_only: host.read_only }, { source: '/', read_only: true });
});
