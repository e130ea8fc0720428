import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { aptInstall } from './apt.ts';
import { BASE_PACKAGES, BOOKWORM, SSH_KEYGEN_DROPIN, type BaseImage } from './config.ts';

$.verbose = false;

export async function imageExists(base: BaseImage = BOOKWORM): Promise<boolean> {
  return (await $`docker image inspect ${base.tag}`.nothrow().quiet()).exitCode === 0;
}

/** Debian's mirror as this machine's apt uses it (deb822 sources first, then sources.list). */
export function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    try {
      const text = readFileSync(file, 'utf8');
      const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text)?.[1];
      if (uri) return uri;
    } catch {
      // try the next
    }
  }
  return 'http://deb.debian.org/debian';
}

/** `docker build` of a Dockerfile and the files it copies, from a throwaway context directory. */
export async function dockerBuild(tag: string, dockerfile: string, files: Record<string, string> = {}): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-build-'));
  try {
    writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    // Quiet: Docker's CLI warns on every legacy-builder build (the lab's engine
    // is Debian's, without buildx); the output is in the error if it fails.
    await $`docker build -q -t ${tag} ${dir}`.quiet();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** With a registry: `FROM debian:SUITE`, the fast path on a user's machine. */
async function buildFromRegistry(base: BaseImage): Promise<boolean> {
  const pulled = await $`timeout 60 docker pull -q ${`debian:${base.suite}`}`.nothrow().quiet();
  if (pulled.exitCode !== 0) return false;
  const dockerfile = [
    `FROM debian:${base.suite}`,
    `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${BASE_PACKAGES.join(' ')} && rm -f /etc/ssh/ssh_host_* && : > /etc/machine-id && rm -f /var/lib/dbus/machine-id && mkdir -p -m 700 /root/.ssh`,
    'COPY keygen.conf /etc/systemd/system/ssh.service.d/keygen.conf',
    'CMD ["/sbin/init"]',
  ].join('\n');
  await dockerBuild(base.tag, `${dockerfile}\n`, { 'keygen.conf': SSH_KEYGEN_DROPIN });
  return true;
}

/** Without a registry (these machines): debootstrap a minbase Debian and import it. */
async function buildWithDebootstrap(base: BaseImage, say: (s: string) => void): Promise<void> {
  if ((await $`command -v debootstrap`.nothrow().quiet()).exitCode !== 0) {
    say('installing debootstrap');
    await aptInstall(['debootstrap']);
  }
  const root = mkdtempSync(path.join(tmpdir(), 'rigger-rootfs-'));
  try {
    say(`debootstrap ${base.suite} from ${debianMirror()} (about 90 s, once)`);
    await $`debootstrap --variant=minbase --include=${BASE_PACKAGES.join(',')} ${base.suite} ${root} ${debianMirror()}`.quiet();
    // Each node must be its own host: no baked-in host keys or machine id
    // (systemd generates an id at first boot when the file is empty).
    await $`rm -f ${root}/etc/ssh/ssh_host_*`.quiet();
    writeFileSync(path.join(root, 'etc/machine-id'), '');
    rmSync(path.join(root, 'var/lib/dbus/machine-id'), { force: true });
    mkdirSync(path.join(root, 'etc/systemd/system/ssh.service.d'), { recursive: true });
    writeFileSync(path.join(root, 'etc/systemd/system/ssh.service.d/keygen.conf'), SSH_KEYGEN_DROPIN);
    mkdirSync(path.join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
    await $`rm -rf ${root}/var/cache/apt/archives/*.deb`.quiet();
    say('importing the image');
    await $`tar -C ${root} -c . | docker import --change ${'CMD ["/sbin/init"]'} - ${base.tag}`.quiet();
  } finally {
    await $`rm -rf ${root}`.nothrow().quiet();
  }
}

export async function ensureImage(say: (s: string) => void, base: BaseImage = BOOKWORM): Promise<'cached' | 'registry' | 'debootstrap'> {
  if (await imageExists(base)) return 'cached';
  if (process.env.RIGGER_LAB_IMAGE_SOURCE !== 'debootstrap' && (await buildFromRegistry(base))) return 'registry';
  await buildWithDebootstrap(base, say);
  return 'debootstrap';
}
