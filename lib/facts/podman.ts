import { sh } from '../shell/command.ts';
import { defineFact } from '../model/fact.ts';

/**
 * The Podman a host has, or would get from apt: `podman --version`'s
 * "podman version 4.9.3", else apt's candidate ("3.4.4+ds1-1ubuntu1.22.04.2",
 * read as its upstream part). A role that needs a Podman feature (Quadlet:
 * 4.4) can refuse before it installs or changes anything.
 */
export interface PodmanVersion {
  installed?: string;
  candidate?: string;
}

/** The upstream x.y.z of a version string (an apt version's epoch and Debian revision dropped). */
const upstream = (text: string | undefined): string | undefined => /(?:^|[\s:])(\d+\.\d+(?:\.\d+)?)/.exec(text ?? '')?.[1];

export function parsePodmanVersion(text: string): PodmanVersion {
  const line = (name: string) => new RegExp(`^@@${name} ?(.*)$`, 'm').exec(text)?.[1]?.trim();
  const installed = upstream(line('installed')?.replace(/^podman version /, ''));
  const candidate = upstream(line('candidate'));
  return { ...(installed ? { installed } : {}), ...(candidate ? { candidate } : {}) };
}

export const podmanVersion = defineFact(
  'podman version',
  sh`echo "@@installed $(podman --version 2>/dev/null)"; echo "@@candidate $(apt-cache policy podman 2>/dev/null | sed -n 's/^ *Candidate: //p')"`,
  (r) => parsePodmanVersion(r.stdout.toString('utf8')),
);
