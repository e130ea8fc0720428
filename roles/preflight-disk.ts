// Preflight's free-space check. The operators want 20 GB free before a
// deployment (CLUSTER.md, "pre-flight check"): on `/` for the Debian and
// Ubuntu nodes, where Docker's images and volumes live. DSM's system
// partition is a small fixed one (a few GB, by design, whatever the disks),
// and DSM's Docker root and shares are on the data volume (/volume1), so on
// DSM it is the data volume that must have the room.
import { facts, type Fact, type z } from 'rigger-ops';
import type { preflightVars } from './preflight.ts';

export interface DiskFinding {
  level: 'pass' | 'fail';
  detail: string;
}

/** What the check needs of a host: its variables and its facts (a HostContext gives both). */
interface DiskHost {
  vars: Pick<z.output<typeof preflightVars>, 'preflight_min_free_gb' | 'preflight_data_volume'>;
  fact<F>(fact: Fact<F>): F;
}

export function diskCheck(h: DiskHost): DiskFinding {
  const onDsm = h.fact(facts.dsm).present;
  const path = onDsm ? h.vars.preflight_data_volume : '/';
  const gb = h.fact(facts.freeDisk(path)).availableBytes / 1e9;
  const need = h.vars.preflight_min_free_gb;
  return { level: gb >= need ? 'pass' : 'fail', detail: `${gb.toFixed(1)} GB free on ${path} (${onDsm ? "DSM's data volume; " : ''}need ${need})` };
}
