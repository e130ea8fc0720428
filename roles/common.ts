import { userInfo } from 'node:os';
import { facts, z, type HostContext } from 'rigger-ops';

/** Variables of the whole cluster that no single role owns. */
export const clusterVars = z.object({
  /** Marks the local lab's inventory (scripts/lab.ts writes it); nothing branches on it. */
  lab: z.boolean().optional(),
});

/** The host that initialises the swarm and runs cluster-wide steps: the first of `managers`. */
export function firstManager(h: HostContext<any>): string {
  const first = h.groupHosts('managers')[0];
  if (!first) throw new Error('the inventory has no host in group managers: the swarm needs one');
  return first;
}

/** The address other nodes reach this host at: swarm_advertise_addr, else ansible_host, else its name. */
export function advertiseAddr(vars: Readonly<Record<string, unknown>>, name: string): string {
  return String(vars.swarm_advertise_addr ?? vars.ansible_host ?? name);
}

/** `when` and its reason for steps that run once for the cluster, on the first manager. */
export const onFirstManager = (what: string) => ({
  when: (h: HostContext<any>) => h.name === firstManager(h),
  whenReason: `${what} on the first manager`,
});

/**
 * `when` and its reason for steps DSM (the Synology NAS) cannot take: it has
 * no apt, and its Docker (Container Manager), firewall and NFS service are
 * set in DSM itself (preflight reports them). Other conditions still apply.
 */
export function unlessDsm(why: string, o: { when?: (h: HostContext<any>) => boolean; whenReason?: string | ((h: HostContext<any>) => string) } = {}) {
  return {
    when: (h: HostContext<any>) => !h.fact(facts.dsm).present && (o.when?.(h) ?? true),
    whenReason: (h: HostContext<any>) => {
      const d = h.fact(facts.dsm);
      if (d.present) return `DSM ${d.version ?? ''} (Synology): ${why}`;
      return typeof o.whenReason === 'function' ? o.whenReason(h) : (o.whenReason ?? 'when was false');
    },
  };
}

/** Who runs a deploy, for the run log on the first manager: the login here (SUDO_USER under sudo). */
export const deployer = () => process.env.SUDO_USER ?? userInfo().username;
