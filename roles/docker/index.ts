import { defineRole, facts, handler, ops, z, type Op } from 'rigger-ops';
import type { Json } from 'rigger-ops/lib/ops/files/json-merge';
import { unlessDsm } from '../common.ts';
import { distroPackages, packagesFor } from './distro-packages.ts';

export const DAEMON_JSON = '/etc/docker/daemon.json';

const DSM_DOCKER = 'no apt; Docker is Container Manager, installed, configured and started in DSM (preflight checks it answers)';

/** Shared with the nvidia role: Docker restarts once, at the end, and only when its configuration changed. */
export const restartDocker = handler({ name: 'restart docker', op: ops.systemd.service({ name: 'docker', state: 'restarted' }) });

const jsonObject = z.record(z.string(), z.custom<Json>(() => true));

export const dockerDefaults = z.object({
  /** docker: Docker's apt repository (docker-ce); distro: the distribution's docker.io. */
  docker_source: z.enum(['docker', 'distro']).default('docker'),
  docker_repo_url: z.string().url().optional(),
  docker_packages: z.array(z.string()).default(['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin']),
  /** docker_source distro's packages: a list, or lists by distribution ({ debian: [...], ubuntu: [...] }; distro-packages.ts). */
  docker_distro_packages: distroPackages.default(['docker.io']),
  /** Keys merged into /etc/docker/daemon.json; keys set by others (the nvidia runtime) are kept. */
  docker_daemon_config: jsonObject.default({}),
});

/** Docker Engine from Docker's repository (or the distribution's), daemon.json merged, running and enabled. */
export const docker = defineRole({
  name: 'docker',
  defaults: dockerDefaults,
  build: ({ task }) => ({
    tasks: [
      task({
        name: "Docker's apt repository",
        ...unlessDsm(DSM_DOCKER, { when: (h) => h.vars.docker_source === 'docker', whenReason: 'docker_source is distro' }),
        op: (h) => {
          const os = h.fact(facts.osRelease);
          const id = os.id === 'raspbian' ? 'debian' : os.id;
          const url = h.vars.docker_repo_url ?? `https://download.docker.com/linux/${id}`;
          return ops.apt.repository({ name: 'docker', uris: [url], suites: [os.codename], components: ['stable'], key: { url: `${url}/gpg` } });
        },
      }),
      task({
        name: 'Docker packages',
        ...unlessDsm(DSM_DOCKER),
        op: (h): Op<unknown> => {
          if (h.vars.docker_source === 'docker') return ops.apt.packages({ names: h.vars.docker_packages, updateCache: true });
          const chosen = packagesFor(h.vars.docker_distro_packages, h.fact(facts.osRelease));
          // A distribution the inventory names no packages for stops the host here, before anything is installed.
          return 'names' in chosen ? ops.apt.packages({ names: chosen.names, updateCache: true }) : ops.assert({ that: false, message: chosen.refused });
        },
      }),
      task({ name: 'daemon.json', ...unlessDsm(DSM_DOCKER), op: (h) => ops.jsonFile({ path: DAEMON_JSON, merge: h.vars.docker_daemon_config as Record<string, Json>, mode: '0644' }), notify: [restartDocker] }),
      task({ name: 'Docker service', ...unlessDsm(DSM_DOCKER), op: ops.systemd.service({ name: 'docker', state: 'started', enabled: true }) }),
    ],
    handlers: [restartDocker],
  }),
});
