import { labIp } from './rehearsal.ts';
import { REGISTRY } from './services.ts';

/** The DSM stand-in's version file: DSM 7.2's, as a DS923+ has it. */
export const DSM_VERSION_FILE = `majorversion="7"
minorversion="2"
productversion="7.2.1"
buildnumber="69057"
os_name="DSM"
`;

/**
 * Makes the lab's data node look like the real one, a Synology NAS on DSM
 * 7.2 (run by `lab.ts rehearse` on a fresh node, a no-op on a node it
 * already made; before site.ts): DSM's version file; Docker present and
 * running as Container Manager brings it (installed here with apt before apt
 * goes, and told to trust the lab registry as a DSM user does in Container
 * Manager's settings); the share and its NFS permission as DSM writes them;
 * DSM's sshd: a main file that includes no drop-in directory and a unit
 * named sshd, not Debian's ssh (community reports of DSM 7: `systemctl
 * reload sshd`, settings edited in /etc/ssh/sshd_config; see
 * docs/lab.md); then no apt, apt-get or dpkg, as on DSM.
 */
export function dsmStandinScript(share: string): string {
  return `set -eu
if [ -f /etc.defaults/VERSION ]; then exit 0; fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
mkdir -p /etc/docker /etc.defaults ${share}
printf '%s\\n' '{ "insecure-registries": ["${REGISTRY}"] }' > /etc/docker/daemon.json
systemctl restart docker
cat > /etc.defaults/VERSION <<'VERSION'
${DSM_VERSION_FILE}VERSION
printf '"%s"\\t%s(rw,async,no_wdelay,crossmnt,insecure,root_squash)\\n' ${share} ${labIp('ai.vibe.local')} > /etc/exports
sed -i '/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]]/d' /etc/ssh/sshd_config
rm -rf /etc/ssh/sshd_config.d
rm -f /etc/systemd/system/sshd.service
sed '/^Alias=/d' /lib/systemd/system/ssh.service > /etc/systemd/system/sshd.service
systemctl disable --now ssh >/dev/null 2>&1
systemctl mask ssh >/dev/null 2>&1
systemctl daemon-reload
systemctl enable --now sshd >/dev/null 2>&1
for b in /usr/bin/apt /usr/bin/apt-get /usr/bin/dpkg; do mv "$b" "$b.not-on-dsm"; done`;
}
