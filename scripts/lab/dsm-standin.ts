import { labIp } from './rehearsal.ts';
import { REGISTRY } from './services.ts';

/** The DSM stand-in's version file: DSM 7.2's, as a DS923+ has it. */
export const DSM_VERSION_FILE = `majorversion="7"
minorversion="2"
productversion="7.2.1"
buildnumber="69057"
os_name="DSM"
`;

/** DSM's own web server: the ports DSM's nginx holds (DSM's web UI on 5000/5001; 80/443 its web portal). */
export const DSM_WEB_PORTS = { http: [80, 5000], https: [443, 5001] } as const;

/** The sign-in page's title the stand-in's DSM web server answers with (a test tells it from a stack's answer). */
export const DSM_PAGE_TITLE = 'Synology DiskStation';

/**
 * DSM's nginx as the stand-in runs it: the four ports DSM holds, with a
 * self-signed certificate on the HTTPS ones (DSM's default certificate is
 * self-signed too). Community reports of DSM 7 (SimpleHomelab/Docker-Traefik
 * #178; Synology's "DSM ports" knowledge-base table: 5000/5001 DSM, 80/443
 * Web Station and the web portal): nothing supported frees 80 or 443, so a
 * stack publishing them on the NAS collides with DSM.
 */
const dsmNginxSite = () => [
  ...DSM_WEB_PORTS.http.map((p) => `server { listen ${p}; location / { default_type text/html; return 200 "<!DOCTYPE html><title>${DSM_PAGE_TITLE}</title>"; } }`),
  ...DSM_WEB_PORTS.https.map((p) => `server { listen ${p} ssl; ssl_certificate /etc/ssl/certs/ssl-cert-snakeoil.pem; ssl_certificate_key /etc/ssl/private/ssl-cert-snakeoil.key; location / { default_type text/html; return 200 "<!DOCTYPE html><title>${DSM_PAGE_TITLE}</title>"; } }`),
].join('\n');

/**
 * Makes the lab's data node look like the real one, a Synology NAS on DSM
 * 7.2 (run by `lab.ts rehearse` on a fresh node, a no-op on a node it
 * already made; before site.ts): DSM's version file; Docker present and
 * running as Container Manager brings it (installed here with apt before apt
 * goes, and told to trust the lab registry as a DSM user does in Container
 * Manager's settings), its root on the data volume, /volume1/@docker, as
 * Container Manager keeps it (a mount of its own: scripts/lab/config.ts
 * DATA_VOLUME); DSM's web server on 80, 443, 5000 and 5001; the share and its NFS permission as DSM writes them;
 * DSM's sshd: a main file that includes no drop-in directory and a unit
 * named sshd, not Debian's ssh (community reports of DSM 7: `systemctl
 * reload sshd`, settings edited in /etc/ssh/sshd_config; see
 * docs/lab.md); then no apt, apt-get or dpkg, as on DSM.
 */
export function dsmStandinScript(share: string): string {
  return `set -eu
if [ -f /etc.defaults/VERSION ]; then exit 0; fi
mountpoint -q /volume1 || { echo '/volume1 is not a mount of its own (DSM data volume)' >&2; exit 1; }
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io nginx ssl-cert >/dev/null
mkdir -p /etc/docker /etc.defaults ${share} /volume1/@docker
printf '%s\\n' '{ "insecure-registries": ["${REGISTRY}"], "data-root": "/volume1/@docker" }' > /etc/docker/daemon.json
systemctl restart docker
# DSM has no /var/lib/docker: the lab node's own Docker volume mounted there goes, so a bind of it fails as on DSM.
umount /var/lib/docker
rmdir /var/lib/docker
rm -f /etc/nginx/sites-enabled/default
cat > /etc/nginx/sites-enabled/dsm <<'NGINX'
${dsmNginxSite()}
NGINX
systemctl enable nginx >/dev/null 2>&1
systemctl restart nginx
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
