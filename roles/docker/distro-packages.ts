// The distribution's Docker packages differ by distribution: Debian 13
// (trixie) splits the CLI out of docker.io and names Compose v2
// docker-compose; Ubuntu ships the CLI inside docker.io and Compose v2 as
// docker-compose-v2, kept current on every supported LTS (Ubuntu's "Container
// Stack Updates" SRU exception, documentation.ubuntu.com/project/SRU/reference/exception-Docker-Updates).
// So docker_distro_packages is a list, or a choice by the host's os-release.
import { z } from 'rigger-ops';
import type { OsRelease } from 'rigger-ops/lib/facts/system';

/**
 * One list for every host, or lists by distribution: keyed `ID-VERSION_ID`
 * (ubuntu-22.04), `ID` (ubuntu, debian) or an `ID_LIKE` entry, the most
 * specific key that matches winning.
 */
export const distroPackages = z.union([z.array(z.string()), z.record(z.string().regex(/^[a-z0-9._-]+$/, "an os-release ID, or ID-VERSION_ID"), z.array(z.string()))]);

/** The packages for this host, or why none fit (a distribution the inventory does not name). */
export function packagesFor(choice: z.output<typeof distroPackages>, os: OsRelease): { names: string[] } | { refused: string } {
  if (Array.isArray(choice)) return { names: choice };
  for (const key of [`${os.id}-${os.versionId}`, os.id, ...os.idLike]) {
    const names = choice[key];
    if (names) return { names };
  }
  return { refused: `docker_distro_packages has no list for ${os.id} ${os.versionId} (lists for: ${Object.keys(choice).join(', ')})` };
}
