import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import { aptInstall } from './apt.ts';
import { LAB_DIR, LAYOUT_NODES, LAYOUTS_KNOWN_HOSTS, TRIXIE } from './config.ts';
import { ensureImage } from './image.ts';
import { LAYOUT_IMAGES } from './layout-images.ts';
import { writeLayoutInventories } from './layout-inventory.ts';
import { authorize, containerState, createNode, ensureKey, ensureNetwork, removeNode, waitReady, writeKnownHosts } from './nodes.ts';
import { ensurePushed, ensureRegistry } from './services.ts';

$.verbose = false;

/** The lab's own certificate authority and Edge's certificate (its address and edge.lab), made once with openssl. */
export const LAB_CA = path.join(LAB_DIR, 'layouts-ca.pem');
export const EDGE_CERT = path.join(LAB_DIR, 'edge-fullchain.pem');
export const EDGE_KEY = path.join(LAB_DIR, 'edge-privkey.pem');

async function ensureEdgeCertificate(edgeIp: string): Promise<void> {
  if (existsSync(EDGE_CERT) && existsSync(EDGE_KEY) && existsSync(LAB_CA)) return;
  if ((await $`command -v openssl`.nothrow().quiet()).exitCode !== 0) await aptInstall(['openssl']);
  const caKey = path.join(LAB_DIR, 'layouts-ca.key');
  const csr = path.join(LAB_DIR, 'edge.csr');
  const ext = path.join(LAB_DIR, 'edge.ext');
  await $`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj /CN=rigger-lab-ca -keyout ${caKey} -out ${LAB_CA}`.quiet();
  await $`openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=edge.lab -keyout ${EDGE_KEY} -out ${csr}`.quiet();
  writeFileSync(ext, `subjectAltName=DNS:edge.lab,IP:${edgeIp}\nextendedKeyUsage=serverAuth\n`);
  await $`openssl x509 -req -in ${csr} -CA ${LAB_CA} -CAkey ${caKey} -CAcreateserial -days 3650 -extfile ${ext} -out ${EDGE_CERT}`.quiet();
}

/**
 * The layouts' hosts (`up --layouts`): trixie nodes on the lab network
 * beside the four Swarm nodes, the layouts' images in the lab registry, and
 * their inventories. `recreate` gives fresh hosts (`reset --layouts [NAME...]`: those named, else all).
 */
export async function ensureLayouts(recreate: boolean, say: (s: string) => void, only: string[] = []): Promise<void> {
  await ensureImage(say, TRIXIE);
  await ensureKey();
  await ensureNetwork();
  await ensureRegistry(say);
  await ensurePushed(LAYOUT_IMAGES, say);
  mkdirSync(LAB_DIR, { recursive: true });
  await ensureEdgeCertificate(LAYOUT_NODES.find((n) => n.name === 'edge')!.ip);
  const keys = await Promise.all(
    LAYOUT_NODES.map(async (n) => {
      if ((recreate && (only.length === 0 || only.includes(n.name))) || (await containerState(n)) !== 'running') {
        say(`starting ${n.name}`);
        await removeNode(n);
        await createNode(n);
      }
      await waitReady(n);
      return authorize(n);
    }),
  );
  writeKnownHosts(keys, LAYOUTS_KNOWN_HOSTS);
  writeLayoutInventories();
}

export async function removeLayouts(): Promise<void> {
  for (const n of LAYOUT_NODES) await removeNode(n);
}
