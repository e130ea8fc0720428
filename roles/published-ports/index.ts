import { defineRole, facts, ops, type Op } from 'rigger-ops';
import { baseDefaults } from '../base/index.ts';
import { stacksDefaults } from '../stacks/index.ts';
import { nodeLimits } from './limits.ts';

export const publishedPortsDefaults = stacksDefaults
  .pick({ stacks: true, stack_images: true, service_endpoint_mode: true, service_publish_mode: true })
  .merge(baseDefaults.pick({ published_ports: true, firewall_backend: true, firewall_enabled: true }));

/**
 * The `from` of the inventory's published_ports, for the ports Swarm
 * publishes: Docker's DNAT takes them past UFW and RIGGER-INPUT, so the limit
 * goes into DOCKER-USER on every node that takes the port (the routing mesh:
 * all of them; host mode: the nodes the service's placement allows). Run with
 * the swarm, before the stacks publish anything. Persisted with UFW's
 * after.rules where UFW is the firewall (as compose-host does), else by a
 * unit of its own (the iptables backend, DSM, a disabled firewall).
 */
export const publishedPorts = defineRole({
  name: 'published-ports',
  defaults: publishedPortsDefaults,
  build: ({ task }) => ({
    tasks: [
      task({
        name: "published ports' from limits (DOCKER-USER)",
        op: (h): Op<unknown, any> => {
          // A stack file that does not render fails here by name (the stacks role would fail on it later).
          const { limits, problems } = nodeLimits(h);
          if (problems.length) return ops.assert({ that: false, message: `cannot read the stacks: ${problems.join('; ')}` });
          const ufw = h.vars.firewall_enabled && h.vars.firewall_backend === 'ufw' && !h.fact(facts.dsm).present;
          return ops.dockerUser({ limits, persist: ufw ? 'ufw' : 'unit' });
        },
      }),
    ],
  }),
});
