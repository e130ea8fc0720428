import { defineRole, ops, z, WithheldResultError, type HostContext, type Task } from 'rigger-ops';
import { certExpiry, type JoinTokens } from 'rigger-ops/lib/ops/docker/swarm';
import { advertiseAddr, firstManager, onFirstManager } from '../common.ts';

export const swarmDefaults = z.object({
  /** The address this node advertises to the swarm; ansible_host when unset. */
  swarm_advertise_addr: z.string().optional(),
  /** Labels set on this node; node_role becomes the label role=... */
  node_role: z.string().optional(),
  swarm_node_labels: z.record(z.string(), z.string()).default({}),
  swarm_default_addr_pool: z.string().optional(),
  /**
   * How long the nodes' swarm certificates live (Docker's default 2160h, 90 days). The operators' one year
   * (../shared/operators/000 section 4.4: "--cert-expiry 8760h"); an existing swarm is updated to it.
   */
  swarm_cert_expiry: certExpiry.default('8760h'),
});

/**
 * The swarm: initialised on the first host of `managers`, other managers and
 * the workers joined with tokens read from it during the run (Secrets, never
 * printed), node labels set from the inventory. Nothing is redone on a
 * second run, and a node in another swarm is reported, not forced.
 */
export const swarm = defineRole({
  name: 'swarm',
  defaults: swarmDefaults,
  build: ({ task }) => {
    const init = task({
      name: 'swarm initialised',
      ...onFirstManager('the swarm is initialised'),
      op: (h) =>
        ops.docker.swarm.init({
          advertiseAddr: advertiseAddr(h.allVars, h.name),
          ...(h.vars.swarm_default_addr_pool ? { defaultAddrPool: h.vars.swarm_default_addr_pool } : {}),
          certExpiry: h.vars.swarm_cert_expiry,
        }),
    });
    const tokens = task({
      name: 'join tokens',
      ...onFirstManager('the join tokens are read'),
      op: ops.docker.swarm.tokens({}),
    });
    const join = task({
      name: 'joined to the swarm',
      when: (h) => h.name !== firstManager(h),
      whenReason: 'the first manager initialises the swarm',
      op: (h) => {
        const tokensResult = joinTokensFor(h, firstManager(h), tokens);
        const clusterId = h.resultOf(firstManager(h), init)?.clusterId;
        return ops.docker.swarm.join({
          role: h.groups.includes('managers') ? 'manager' : 'worker',
          advertiseAddr: advertiseAddr(h.allVars, h.name),
          ...(tokensResult ? { join: tokensResult } : {}),
          ...(clusterId ? { clusterId } : {}),
        });
      },
    });
    return {
      tasks: [
        init,
        tokens,
        join,
        task({
          name: 'old entries of a rebuilt node removed',
          // Only right after this node joined (or initialised) anew: a rebuilt node. A node that is merely
          // off keeps its entry, even when another node shares its hostname.
          when: (h) => h.status(join) === 'changed' || h.status(init) === 'changed',
          whenReason: 'the node was already in the swarm',
          delegateTo: (h) => firstManager(h),
          op: (h) => ops.docker.swarm.replacedNodes({ nodeId: (h.result(init) ?? h.result(join))?.nodeId ?? '' }),
        }),
        task({
          name: 'node labels',
          delegateTo: (h) => firstManager(h),
          op: (h) => {
            const me = h.result(init) ?? h.result(join);
            const labels = { ...(h.vars.node_role ? { role: h.vars.node_role } : {}), ...h.vars.swarm_node_labels };
            return ops.docker.swarm.nodeLabels({ nodeId: me?.nodeId ?? '', labels });
          },
        }),
      ],
    };
  },
});

/**
 * The join tokens the first manager read in this run. A resumed run
 * (--resume) has none: its record never keeps a secret. A node already in
 * the swarm does not need them (the join op is ok without); one that still
 * has to join fails there, saying to run without --resume.
 */
function joinTokensFor(h: HostContext<any>, manager: string, tokens: Task<JoinTokens>): JoinTokens | undefined {
  try {
    return h.resultOf(manager, tokens);
  } catch (err) {
    if (err instanceof WithheldResultError) return undefined;
    throw err;
  }
}
