import { readFileSync } from 'node:fs';
import { IMAGE } from './config.ts';
import { APT, POSTGRES_ENTRYPOINT, pushRefOf, type ServiceImage } from './services.ts';

// The lab postgres image's entrypoint reads the password from a file (a swarm
// secret); Compose and Quadlet hand it over in the environment.
const PG_ENTRYPOINT = `#!/bin/sh
set -eu
f=$(mktemp)
printf '%s' "\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" > "$f"
POSTGRES_PASSWORD_FILE=$f exec /usr/local/bin/pg-initdb.sh
`;

/**
 * The layouts' service images, built on the lab's base image (no registry
 * but the lab's own is reachable here) and pushed to the lab registry. One
 * image holds Debian's PostgreSQL 15 (a stand-in for the postgres:16 image),
 * Redis (for redis:7) and nginx (for nginx), and the stand-in program
 * (layout-standin.py) that plays MinIO, Celery worker and beat, the
 * executor, the OpenTelemetry collector, Prometheus, Loki, the Django web
 * container and the single server's app: each answers its real health path
 * once its dependencies accept connections.
 */
export const LAYOUT_IMAGE: ServiceImage = {
  name: 'layouts',
  dockerfile: `FROM ${IMAGE}
RUN ${APT} postgresql-15 redis-server nginx wget && pg_dropcluster 15 main && rm -rf /var/lib/apt/lists/* && rm -f /etc/nginx/sites-enabled/default
ENV PATH=/usr/lib/postgresql/15/bin:$PATH
COPY pg-entrypoint.sh /usr/local/bin/pg-entrypoint.sh
COPY pg-initdb.sh /usr/local/bin/pg-initdb.sh
COPY standin.py /app/standin.py
RUN chmod 755 /usr/local/bin/pg-entrypoint.sh /usr/local/bin/pg-initdb.sh
ENTRYPOINT ["python3", "/app/standin.py"]
`,
  files: { 'pg-entrypoint.sh': PG_ENTRYPOINT, 'pg-initdb.sh': POSTGRES_ENTRYPOINT, 'standin.py': readFileSync(new URL('./layout-standin.py', import.meta.url), 'utf8') },
};

// Built here right after it (ensurePushed keeps the order), under the name this machine pushes it with.
const layoutRef = pushRefOf(LAYOUT_IMAGE);

/** The single server's app in four releases: two good ones, one whose health fails, one that answers too slowly. */
function appRelease(version: string, mode: 'ok' | 'fail' | 'slow'): ServiceImage {
  return { name: `app-${version}`, dockerfile: `FROM ${layoutRef}\nENV VERSION=${version} HEALTH_MODE=${mode} HEALTH_PATHS=/api/health\n`, files: {} };
}

export const APP_RELEASES = { v1: appRelease('v1', 'ok'), v2: appRelease('v2', 'ok'), bad: appRelease('bad', 'fail'), slow: appRelease('slow', 'slow') };

export const LAYOUT_IMAGES: ServiceImage[] = [LAYOUT_IMAGE, ...Object.values(APP_RELEASES)];
