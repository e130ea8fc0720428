import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAB_VAULT_PASSWORD_FILE } from '../../lib/inventory/load.ts';
import { LAB_DIR, LAB_KEY, LAYOUT_NODES, LAYOUTS_KNOWN_HOSTS } from './config.ts';
import { labValue } from './inventory.ts';
import { LAYOUT_IMAGE } from './layout-images.ts';
import { REGISTRY, refOf } from './services.ts';
import { vault, yamlWithVault } from './vault-yaml.ts';

export const CORE_EDGE_INVENTORY = path.resolve('inventory/lab-core-edge.yml');
export const SINGLE_SERVER_INVENTORY = path.resolve('inventory/lab-single-server.yml');
/** The lab's env files for the Core/Edge layout (the operators keep theirs beside the .example files, out of git). */
export const LAB_ENV_DIR = path.join(LAB_DIR, 'core-edge-env');

const ip = (name: string) => LAYOUT_NODES.find((n) => n.name === name)!.ip;
function write(file: string, vars: Record<string, unknown>, children: Record<string, unknown>): void {
  const yaml = yamlWithVault({ all: { vars, children } }, labValue(LAB_VAULT_PASSWORD_FILE));
  writeFileSync(file, `# Written by \`npx tsx scripts/lab.ts up --layouts\`. Its !vault values use the passphrase in ${LAB_VAULT_PASSWORD_FILE}.\n${yaml}`);
}

const connection = { ansible_user: 'root', ansible_ssh_private_key_file: LAB_KEY, rigger_known_hosts_file: LAYOUTS_KNOWN_HOSTS, lab: true };

/**
 * inventory/lab-core-edge.yml: inventory/core-edge.yml on the lab's Core and
 * Edge, with the stand-in images (every service image is the layouts' one),
 * the lab registry, the lab's certificate on Edge and the lab's env files.
 */
function writeCoreEdge(): void {
  mkdirSync(LAB_ENV_DIR, { recursive: true });
  const envCore = path.join(LAB_ENV_DIR, '.env.core');
  const envEdge = path.join(LAB_ENV_DIR, '.env.edge');
  writeFileSync(envCore, 'POSTGRES_USER=vibe\nPOSTGRES_DB=vibe\nREDIS_URL=redis://redis:6379/0\nMINIO_ENDPOINT=http://minio:9000\nOTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4317\n');
  writeFileSync(envEdge, `DJANGO_ALLOWED_HOSTS=edge.lab,${ip('edge')}\nDATABASE_HOST=${ip('core')}\nDATABASE_PORT=5432\nREDIS_URL=redis://${ip('core')}:6379/0\nS3_ENDPOINT=http://${ip('core')}:9000\nOTEL_EXPORTER_OTLP_ENDPOINT=http://${ip('core')}:4317\n`);
  const image = refOf(LAYOUT_IMAGE);
  const images = Object.fromEntries(['POSTGRES_IMAGE', 'REDIS_IMAGE', 'MINIO_IMAGE', 'OTEL_IMAGE', 'PROMETHEUS_IMAGE', 'LOKI_IMAGE', 'WEB_IMAGE', 'EXECUTOR_IMAGE', 'NGINX_IMAGE'].map((k) => [k, image]));
  const password = labValue(path.join(LAB_DIR, 'core-postgres-password'));
  write(
    CORE_EDGE_INVENTORY,
    {
      ...connection,
      docker_source: 'distro',
      docker_distro_packages: ['docker.io', 'docker-cli', 'docker-compose'],
      docker_daemon_config: { 'insecure-registries': [REGISTRY], 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m' } },
    },
    {
      core: {
        hosts: { 'core-vm': { ansible_host: ip('core') } },
        vars: {
          compose_private_ports: [5432, 6379, 9000, 4317],
          compose_private_from: 'edge',
          compose_projects: [
            {
              name: 'core',
              dir: '/opt/vibearena/core',
              source: 'layouts/core-edge/compose/core',
              env: { ...images, EXECUTOR_CONCURRENCY: '2', MINIO_ACCESS_KEY: 'vibe', MINIO_SECRET_KEY: vault(labValue(path.join(LAB_DIR, 'core-minio-secret'))) },
              env_files: { 'env/.env.core': envCore },
              env_secrets: { 'env/.env.core': { POSTGRES_PASSWORD: vault(password) } },
              wait_seconds: 120,
            },
          ],
        },
      },
      edge: {
        hosts: { 'edge-vm': { ansible_host: ip('edge') } },
        vars: {
          compose_projects: [
            {
              name: 'edge',
              dir: '/opt/vibearena/edge',
              source: 'layouts/core-edge/compose/edge',
              env: { ...images, CORE_HOST: ip('core') },
              env_files: { 'env/.env.edge': envEdge },
              env_secrets: { 'env/.env.edge': { DJANGO_SECRET_KEY: vault(labValue(path.join(LAB_DIR, 'edge-django-secret'))), DATABASE_PASSWORD: vault(password) } },
              files: { 'certs/fullchain.pem': readFileSync(path.join(LAB_DIR, 'edge-fullchain.pem'), 'utf8'), 'certs/privkey.pem': vault(readFileSync(path.join(LAB_DIR, 'edge-privkey.pem'), 'utf8')) },
              wait_seconds: 120,
            },
          ],
        },
      },
    },
  );
}

/**
 * inventory/lab-single-server.yml: inventory/single-server.yml on the lab's
 * single host, with the stand-in images from the lab registry, Caddy's
 * internal CA for its TLS (no ACME here), shorter health-gate waits, and a
 * webhook receiver on the host's loopback (the release test starts it).
 */
function writeSingleServer(): void {
  const image = refOf(LAYOUT_IMAGE);
  write(SINGLE_SERVER_INVENTORY, connection, {
    single_server: {
      hosts: { 'single-vm': { ansible_host: ip('single') } },
      vars: {
        podman_insecure_registries: [REGISTRY],
        quadlet_vars: { POSTGRES_IMAGE: image, REDIS_IMAGE: image, MINIO_IMAGE: image },
        quadlet_env_files: {
          '/etc/vibearena/postgres.env': { POSTGRES_USER: 'vibe', POSTGRES_DB: 'vibe', POSTGRES_PASSWORD: vault(labValue(path.join(LAB_DIR, 'single-postgres-password'))) },
          '/etc/vibearena/minio.env': { MINIO_ROOT_USER: 'vibe', MINIO_ROOT_PASSWORD: vault(labValue(path.join(LAB_DIR, 'single-minio-secret'))) },
          '/etc/vibearena/app.env': { DATABASE_HOST: 'postgres', DATABASE_PORT: 5432, REDIS_URL: 'redis://redis:6379/0' },
        },
        caddy_sites: [
          {
            address: `https://${ip('single')}`,
            tls: 'internal',
            app: 'app',
            healthPath: '/caddy/health',
            headers: { 'Strict-Transport-Security': 'max-age=31536000', 'X-Content-Type-Options': 'nosniff' },
          },
        ],
        release_apps: {
          app: {
            slots: { blue: 3005, green: 3006 },
            health: { url: 'http://127.0.0.1:{port}/api/health', status: 200, maxLatencyMs: 500, bodyContains: '"unreachable": []', delaySeconds: 10, retries: 3, intervalSeconds: 2 },
            keep_old_for_seconds: 3600,
          },
        },
        release_webhook: vault('http://127.0.0.1:9099/hook'),
      },
    },
  });
}

export function writeLayoutInventories(): void {
  writeCoreEdge();
  writeSingleServer();
}

