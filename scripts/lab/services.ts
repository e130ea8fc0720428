import { createHash } from 'node:crypto';
import { $ } from 'zx';
import { IMAGE, LABEL, NETWORK } from './config.ts';
import { dockerBuild } from './image.ts';
import { ensureNetwork } from './nodes.ts';

$.verbose = false;

/**
 * The lab's image registry: the stand-in for Docker Hub and the cicd node's
 * registry of the real cluster. It runs beside the nodes (not in one), so a
 * `reset` that wipes every node's Docker keeps the images, as a real
 * registry survives the loss of a node. Built from Debian's docker-registry
 * package on the lab's base image: no registry is reachable from here.
 */
export const REGISTRY_CONTAINER = 'rigger-lab-registry';
export const REGISTRY_IP = '172.30.99.5';
/** How the nodes reach it (listed in their daemon.json as an insecure registry). */
export const REGISTRY = `${REGISTRY_IP}:5000`;
/** How this machine's engine pushes to it: Docker trusts plain HTTP on loopback. */
export const PUSH_REGISTRY = '127.0.0.1:5005';
const REGISTRY_VOLUME = 'rigger-lab-registry';

export interface ServiceImage {
  name: string;
  dockerfile: string;
  files: Record<string, string>;
}

export const POSTGRES_ENTRYPOINT = `#!/bin/sh
# A minimal stand-in for the postgres image: initdb on first start with the
# password from POSTGRES_PASSWORD_FILE (a swarm secret), then postgres in the
# foreground as the postgres user. As the image's docker-entrypoint.sh:
# \`postgres ARGS\` (the default command, or a stack's command: such as
# -c shared_preload_libraries=pg_stat_statements) starts the server with ARGS,
# ARGS alone are taken as postgres's, and any other command runs as given.
set -eu
case "\${1:-postgres}" in
  postgres) [ $# -eq 0 ] || shift ;;
  -*) ;;
  *) exec "$@" ;;
esac
BIN=/usr/lib/postgresql/15/bin
PGDATA=\${PGDATA:-/var/lib/postgresql/data}
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  cat "\${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is required}" > "$pwfile"
  chown postgres "$pwfile"
  as_postgres "$BIN/initdb" -D "$PGDATA" -U "\${POSTGRES_USER:-postgres}" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ -n "\${POSTGRES_DB:-}" ]; then
    echo "CREATE DATABASE \\"$POSTGRES_DB\\";" | as_postgres "$BIN/postgres" --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$BIN/postgres" -D "$PGDATA" "$@"
`;

const WEB_APP = `# The lab's small HTTP service: / and /health answer with the container's host name.
import http.server, json, os, socket

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path in ("/", "/health")
        body = json.dumps({"status": "ok" if ok else "not found", "host": socket.gethostname()}).encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
`;

export const APT = 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0';

const SERVICE_IMAGES: ServiceImage[] = [
  {
    name: 'postgres',
    dockerfile: `FROM ${IMAGE}
RUN ${APT} postgresql-15 && pg_dropcluster 15 main && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH
COPY entrypoint.sh /usr/local/bin/entrypoint.sh
RUN chmod 755 /usr/local/bin/entrypoint.sh
STOPSIGNAL SIGINT
EXPOSE 5432
# As the postgres image: a stack's command: replaces CMD and reaches the entrypoint as its arguments.
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["postgres"]
`,
    files: { 'entrypoint.sh': POSTGRES_ENTRYPOINT },
  },
  {
    name: 'web',
    dockerfile: `FROM ${IMAGE}
COPY server.py /app/server.py
EXPOSE 8080
CMD ["python3", "/app/server.py"]
`,
    files: { 'server.py': WEB_APP },
  },
];

const REGISTRY_IMAGE_RECIPE: ServiceImage = {
  name: 'registry',
  dockerfile: `FROM ${IMAGE}
RUN ${APT} docker-registry && rm -rf /var/lib/apt/lists/*
COPY config.yml /etc/docker/registry/lab.yml
EXPOSE 5000
CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/lab.yml"]
`,
  // Debian's default config asks for htpasswd logins; the lab's registry is open, on the lab network only.
  files: { 'config.yml': 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/docker-registry\nhttp:\n  addr: :5000\n' },
};

/** Tags follow the recipe, so a changed Dockerfile is never served from a stale image. */
export const tagOf = (img: ServiceImage) => createHash('sha256').update(JSON.stringify(img)).digest('hex').slice(0, 12);

/** A lab image as the nodes pull it: lab/NAME:TAG in the lab registry (REGISTRY). */
export const refOf = (img: ServiceImage) => `${REGISTRY}/lab/${img.name}:${tagOf(img)}`;
/** The same image as this machine's engine builds and pushes it (PUSH_REGISTRY), and as an image built on it names it in FROM. */
export const pushRefOf = (img: ServiceImage) => `${PUSH_REGISTRY}/lab/${img.name}:${tagOf(img)}`;

/** The image references the lab's stacks use, as the nodes pull them. */
export function serviceImageRefs(): Record<string, string> {
  return Object.fromEntries(SERVICE_IMAGES.map((i) => [i.name, refOf(i)]));
}

const build = (img: ServiceImage, tag: string) => dockerBuild(tag, img.dockerfile, img.files);

async function registryAnswers(): Promise<boolean> {
  return (await $`curl -fsS -m 2 http://${PUSH_REGISTRY}/v2/`.nothrow().quiet()).exitCode === 0;
}

/** The registry container, started (and its image built) when missing. */
export async function ensureRegistry(say: (s: string) => void): Promise<void> {
  if (await registryAnswers()) return;
  const image = `rigger-lab-registry:${tagOf(REGISTRY_IMAGE_RECIPE)}`;
  if ((await $`docker image inspect ${image}`.nothrow().quiet()).exitCode !== 0) {
    say('building the registry image (Debian docker-registry)');
    await build(REGISTRY_IMAGE_RECIPE, image);
  }
  await $`docker rm -f ${REGISTRY_CONTAINER}`.nothrow().quiet();
  await $`docker volume create --label ${LABEL} ${REGISTRY_VOLUME}`.quiet();
  await $`docker run -d --name ${REGISTRY_CONTAINER} --label ${LABEL} --restart unless-stopped --network ${NETWORK} --ip ${REGISTRY_IP} -p ${`${PUSH_REGISTRY}:5000`} -v ${`${REGISTRY_VOLUME}:/var/lib/docker-registry`} ${image}`.quiet();
  const deadline = Date.now() + 30_000;
  while (!(await registryAnswers())) {
    if (Date.now() > deadline) throw new Error(`the lab registry did not answer on ${PUSH_REGISTRY} within 30 s (docker logs ${REGISTRY_CONTAINER})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function inRegistry(img: ServiceImage): Promise<boolean> {
  return (await $`curl -fsS -m 5 -o /dev/null -H ${'Accept: application/vnd.docker.distribution.manifest.v2+json'} http://${PUSH_REGISTRY}/v2/lab/${img.name}/manifests/${tagOf(img)}`.nothrow().quiet()).exitCode === 0;
}

/** Registry up, every service image built from the base image and pushed (each only once). */
export async function ensureServiceImages(say: (s: string) => void): Promise<void> {
  await ensureNetwork();
  await ensureRegistry(say);
  await ensurePushed(SERVICE_IMAGES, say);
}

/** Each image built from its recipe (when not built yet) and pushed to the lab registry as lab/NAME:TAG, once. */
export async function ensurePushed(images: ServiceImage[], say: (s: string) => void): Promise<void> {
  for (const img of images) {
    if (await inRegistry(img)) continue;
    const local = pushRefOf(img);
    if ((await $`docker image inspect ${local}`.nothrow().quiet()).exitCode !== 0) {
      say(`building lab/${img.name}`);
      await build(img, local);
    }
    say(`pushing lab/${img.name}`);
    await $`docker push -q ${local}`.quiet();
  }
}

/** The registry answers and holds every service image of the current recipes. */
export async function servicesReady(): Promise<boolean> {
  if (!(await registryAnswers())) return false;
  for (const img of SERVICE_IMAGES) if (!(await inRegistry(img))) return false;
  return true;
}

export async function removeRegistry(): Promise<void> {
  await $`docker rm -f ${REGISTRY_CONTAINER}`.nothrow().quiet();
  await $`docker volume rm -f ${REGISTRY_VOLUME}`.nothrow().quiet();
}
