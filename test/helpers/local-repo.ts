import { Command, sh } from '../../lib/shell/command.ts';

/**
 * A signed, flat apt repository built on a lab node with its own tools
 * (gpg, dpkg-deb, sha256sum): the stand-in for remote repositories (Docker's,
 * NVIDIA's) that cannot be reached from here. Serves `file:DIR` with suite
 * "./"; prints the armored public key. Stand-in packages install a marker
 * file /usr/share/doc/NAME/standin and print nothing else.
 */
export interface StandinPackage {
  name: string;
  version: string;
}

export function buildLocalRepo(dir: string, packages: StandinPackage[]): Command {
  const builds = packages
    .map(
      (p) => `mkdir -p pkg-${p.name}/DEBIAN pkg-${p.name}/usr/share/doc/${p.name}
printf 'Package: ${p.name}\\nVersion: ${p.version}\\nArchitecture: all\\nMaintainer: rigger tests <tests@rigger.invalid>\\nDescription: stand-in for ${p.name} (rigger lab)\\n' > pkg-${p.name}/DEBIAN/control
echo 'rigger lab stand-in' > pkg-${p.name}/usr/share/doc/${p.name}/standin
dpkg-deb -Zgzip --build pkg-${p.name} ${p.name}_${p.version}_all.deb >/dev/null
{ dpkg-deb -f ${p.name}_${p.version}_all.deb; echo "Filename: ./${p.name}_${p.version}_all.deb"; echo "Size: $(stat -c %s ${p.name}_${p.version}_all.deb)"; echo "SHA256: $(sha256sum ${p.name}_${p.version}_all.deb | cut -c1-64)"; echo; } >> Packages`,
    )
    .join('\n');
  return sh`set -e
export GNUPGHOME=$(mktemp -d)
rm -rf ${dir} && mkdir -p ${dir} && cd ${dir}
: > Packages
${new Command(Buffer.from(builds))}
gzip -kf Packages
{ echo "Origin: rigger-lab"; echo "Label: rigger-lab"; echo "Suite: ./"; echo "Date: $(LC_ALL=C date -Ru)"; echo "SHA256:";
  for f in Packages Packages.gz; do echo " $(sha256sum $f | cut -c1-64) $(stat -c %s $f) $f"; done; } > Release
gpg --batch --quiet --passphrase '' --quick-gen-key 'rigger lab repo <repo@rigger.invalid>' ed25519 sign never 2>/dev/null
gpg --batch --quiet --yes --clearsign -o InRelease Release
gpg --batch --armor --export 'repo@rigger.invalid'
rm -rf "$GNUPGHOME"`;
}
