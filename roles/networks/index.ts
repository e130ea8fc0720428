import { defineRole, ops, z } from 'rigger-ops';
import { onFirstManager } from '../common.ts';

const networkSpec = z.union([
  z.string(),
  z
    .object({
      name: z.string(),
      encrypted: z.boolean().optional(),
      attachable: z.boolean().optional(),
      subnet: z.string().optional(),
      options: z.record(z.string(), z.string()).optional(),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
]);

export const networksDefaults = z.object({
  /** The overlay networks: names, or objects with their own options. */
  overlay_networks: z.array(networkSpec).default([]),
  /** The default for networks that do not say (on in the real cluster; the lab's kernel cannot carry it). */
  overlay_encrypted: z.boolean().default(true),
  /** fail: report a network whose options differ; warn: report and leave it; recreate: re-create it (cuts its services). */
  networks_on_difference: z.enum(['fail', 'warn', 'recreate']).default('fail'),
});

/** The overlay networks of the inventory, created on the first manager. */
export const networks = defineRole({
  name: 'networks',
  defaults: networksDefaults,
  build: ({ task }) => ({
    tasks: [
      task({
        name: 'overlay networks',
        ...onFirstManager('networks are created'),
        op: (h) => {
          const specs = h.vars.overlay_networks.map((n) => (typeof n === 'string' ? { name: n } : n));
          return ops.each(
            'overlay networks',
            specs.map((n) =>
              ops.docker.network({
              name: n.name,
              driver: 'overlay',
              attachable: n.attachable ?? true,
              encrypted: n.encrypted ?? h.vars.overlay_encrypted,
              options: n.options ?? {},
              labels: n.labels ?? {},
              ...(n.subnet ? { subnet: n.subnet } : {}),
                onDifference: h.vars.networks_on_difference,
              }),
            ),
          );
        },
      }),
    ],
  }),
});
