import { defineOp, defineRole, facts, flushHandlers, ops, sh, type Decision, type HostContext, z } from 'rigger-ops';
import { DAEMON_JSON, restartDocker } from '../docker/index.ts';

export const nvidiaDefaults = z.object({
  /** Overrides detection: true declares a GPU host, false rules one out; unset: the gpu fact decides. */
  nvidia_gpu: z.boolean().optional(),
  /** Fail when a GPU host has no driver loaded (rigger reports the driver, it never installs one blindly). */
  nvidia_require_driver: z.boolean().default(true),
  nvidia_repo_url: z.string().default('https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH)'),
  /** The repository's signing key: a URL fetched once, or the armored key itself. */
  nvidia_repo_key_url: z.string().url().default('https://nvidia.github.io/libnvidia-container/gpgkey'),
  nvidia_repo_key: z.string().optional(),
  nvidia_packages: z.array(z.string()).default(['nvidia-container-toolkit']),
  /** The image whose `nvidia-smi -L` proves a container sees the GPU. */
  nvidia_verify_image: z.string().default('nvidia/cuda:12.4.1-base-ubuntu22.04'),
  /**
   * The Swarm generic resource the GPUs are advertised as (daemon.json's
   * node-generic-resources): stacks reserve it (`discrete_resource_spec: { kind: NVIDIA-GPU }`).
   */
  nvidia_generic_resource: z.string().regex(/^[A-Za-z0-9_-]+$/).default('NVIDIA-GPU'),
  /** GPU UUIDs to advertise where the gpu fact cannot list them (the lab's declared stand-in GPU); unset: from `nvidia-smi -L`. */
  nvidia_gpu_uuids: z.array(z.string().min(1)).optional(),
  /** Make nvidia Docker's default runtime: Swarm services cannot ask for --gpus, so a Swarm GPU host needs it. */
  nvidia_default_runtime: z.boolean().default(false),
});

type Vars = z.output<typeof nvidiaDefaults>;

/** A GPU host by the inventory's word, else by detection. */
export function isGpuHost(h: HostContext<Vars>): boolean {
  return h.vars.nvidia_gpu ?? h.fact(facts.gpu).present;
}

/** The GPUs to advertise to Swarm: the inventory's list, else the UUIDs `nvidia-smi -L` printed. */
export function gpuUuids(h: HostContext<Vars>): string[] {
  if (h.vars.nvidia_gpu_uuids) return h.vars.nvidia_gpu_uuids;
  if (!isGpuHost(h)) return [];
  return h.fact(facts.gpu).devices.flatMap((d) => /\(UUID: (GPU-[^)]+)\)/.exec(d)?.[1] ?? []);
}

const NO_GPU = 'no NVIDIA GPU on this host (gpu fact: none; set nvidia_gpu: true to declare one)';

/** Runs nvidia-smi in a container; skips with its own reason where no GPU is detected. */
const gpuContainerCheck = defineOp({
  kind: 'nvidia.containerCheck',
  schema: z.object({ image: z.string(), detected: z.boolean() }).strict(),
  describe: (p) => `a container of ${p.image} sees the GPU`,
  readOnly: true,
  decide: (p): Decision<{ gpus: string[] }> =>
    p.detected
      ? {
          kind: 'change',
          msg: 'run nvidia-smi -L in a container',
          commands: [sh`docker run --rm --gpus all ${p.image} nvidia-smi -L`],
          result: (r) => ({ gpus: r.stdout.toString('utf8').trim().split('\n').filter(Boolean) }),
        }
      : { kind: 'skip', reason: 'declared a GPU host by nvidia_gpu, but no GPU is detected here (the lab has none): no container can see one, check skipped' },
});

/** The NVIDIA container toolkit and Docker's nvidia runtime, on GPU hosts only. */
export const nvidia = defineRole({
  name: 'nvidia',
  defaults: nvidiaDefaults,
  build: ({ task }) => {
    const gpuOnly = { when: isGpuHost, whenReason: NO_GPU };
    return {
      tasks: [
        task({
          name: 'NVIDIA driver',
          ...gpuOnly,
          op: (h) => {
            const g = h.fact(facts.gpu);
            const driver = g.driverVersion;
            return ops.assert({
              that: driver !== undefined || !h.vars.nvidia_require_driver,
              message: `no NVIDIA driver is loaded (${g.source === 'lspci' ? `lspci sees ${g.devices[0]}` : 'nvidia-smi not found'}); install the driver for this GPU and reboot, or set nvidia_require_driver: false`,
              success: driver ? `driver ${driver}` : 'no driver loaded (nvidia_require_driver is false)',
            });
          },
        }),
        task({
          name: "NVIDIA's apt repository",
          ...gpuOnly,
          op: (h) =>
            ops.apt.repository({
              name: 'nvidia-container-toolkit',
              uris: [h.vars.nvidia_repo_url.replace('$(ARCH)', h.fact(facts.arch).debian || 'amd64')],
              suites: ['/'],
              key: h.vars.nvidia_repo_key ? { content: h.vars.nvidia_repo_key } : { url: h.vars.nvidia_repo_key_url },
            }),
        }),
        task({ name: 'NVIDIA container toolkit', ...gpuOnly, op: (h) => ops.apt.packages({ names: h.vars.nvidia_packages }) }),
        task({
          name: 'nvidia runtime in daemon.json',
          ...gpuOnly,
          op: (h) =>
            ops.jsonFile({
              path: DAEMON_JSON,
              merge: { runtimes: { nvidia: { path: 'nvidia-container-runtime', runtimeArgs: [] } }, ...(h.vars.nvidia_default_runtime ? { 'default-runtime': 'nvidia' } : {}) },
              mode: '0644',
            }),
          notify: [restartDocker],
        }),
        task({
          // NVIDIA's documented Swarm setup: the runtime exposes the GPU that Swarm assigned to the task.
          name: 'nvidia runtime reads the Swarm GPU assignment',
          ...gpuOnly,
          op: (h) =>
            ops.line({
              path: '/etc/nvidia-container-runtime/config.toml',
              regexp: '^#?\\s*swarm-resource\\s*=',
              line: `swarm-resource = "DOCKER_RESOURCE_${h.vars.nvidia_generic_resource.toUpperCase()}"`,
              // The toolkit's package ships the file; a toolkit without it gets the one line it needs.
              create: true,
              mode: '0644',
            }),
          notify: [restartDocker],
        }),
        task({
          name: 'GPUs advertised to Swarm (node-generic-resources)',
          when: (h) => gpuUuids(h).length > 0,
          whenReason: 'no GPU to advertise (no GPU detected, no nvidia_gpu_uuids)',
          op: (h) => ops.jsonFile({ path: DAEMON_JSON, merge: { 'node-generic-resources': gpuUuids(h).map((u) => `${h.vars.nvidia_generic_resource}=${u}`) }, mode: '0644' }),
          notify: [restartDocker],
        }),
        flushHandlers(),
        task({
          name: 'a container sees the GPU',
          ...gpuOnly,
          op: (h) => gpuContainerCheck({ image: h.vars.nvidia_verify_image, detected: h.fact(facts.gpu).present }),
        }),
      ],
      handlers: [restartDocker],
    };
  },
});
