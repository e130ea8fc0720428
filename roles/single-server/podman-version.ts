// Quadlet (the .container units under /etc/containers/systemd this layout
// installs) came with Podman 4.4 (its release notes: "Quadlet ... is now
// part of Podman"; podman-systemd.unit(5) from that release). Ubuntu 22.04, the operators' server in 004, ships 3.4.4, where the
// units would be silently ignored by systemd: refuse first, naming the
// version found and the one needed.
import semver from 'semver';
import { facts, ops, type HostContext } from 'rigger-ops';

export const QUADLET_MIN_PODMAN = '4.4.0';

/** The check, as an assert op: the installed Podman, else the one apt would install. */
export function podmanVersionGate(h: Pick<HostContext<{ podman_min_version: string }>, 'vars' | 'fact'>) {
  const v = h.fact(facts.podmanVersion);
  const need = h.vars.podman_min_version;
  const [found, where] = v.installed ? [v.installed, 'installed'] : v.candidate ? [v.candidate, "apt's candidate"] : [undefined, ''];
  if (!found) return ops.assert({ that: false, message: `no Podman installed and none in apt: Quadlet needs Podman ${need} or newer` });
  const ok = semver.gte(semver.coerce(found) ?? '0.0.0', semver.coerce(need) ?? need);
  return ops.assert({
    that: ok,
    message: `Podman ${found} (${where}) is older than Quadlet needs: ${need} or newer (on Ubuntu 22.04, whose Podman is 3.4, use 24.04 or a newer Podman); nothing was changed`,
    success: `Podman ${found} (${where}), ${need} or newer`,
  });
}
