// DSM owns sshd's port: it is set in Control Panel > Terminal & SNMP >
// Terminal, and DSM writes it into /etc/ssh/sshd_config itself (a port
// written there by hand can be put back by DSM). So on DSM rigger never
// moves the port: a run whose inventory asks for another port than the one
// it connects on is refused before the host changes, naming the setting.
// The other sshd settings rigger writes into DSM's main file (it includes no
// drop-in directory): lib/ops/system/sshd-config.ts.
import { facts, type HostContext } from 'rigger-ops';
// The port this run connects on, as the transport computes it.
import { sshLogin } from 'rigger-ops/lib/cli/connection';

export interface DsmSshdVerdict {
  level: 'pass' | 'fail';
  detail: string;
}

/** Whether this host's sshd port is where the inventory wants it, on DSM; any other host passes (rigger moves its port). */
export function dsmSshdVerdict(h: HostContext<{ sshd_port?: number | undefined }>): DsmSshdVerdict {
  const dsm = h.fact(facts.dsm);
  const { port } = sshLogin(h.allVars);
  const wanted = h.vars.sshd_port ?? 22;
  if (!dsm.present) return { level: 'pass', detail: 'not DSM: the base role sets the port' };
  if (wanted === port) return { level: 'pass', detail: `DSM ${dsm.version}: sshd answers on ${port}, the inventory's sshd_port` };
  return {
    level: 'fail',
    detail: `DSM ${dsm.version}: DSM sets sshd's port, not rigger: set ${wanted} in Control Panel > Terminal & SNMP > Terminal (Port), then connect on it (ansible_port: ${wanted}); this run connects on ${port}`,
  };
}
