import { IMAGE } from './config.ts';
import { APT, pushRefOf, refOf, type ServiceImage } from './services.ts';

/**
 * The monitoring stack's images for the lab, built from Debian's packages
 * (no registry but the lab's own is reachable here): one base with every
 * package, then one thin image per program whose entrypoint and default
 * arguments match the real image's, so stacks/monitoring.yml runs unchanged
 * with the image references swapped (the `stack_images` variable).
 * Grafana, Loki, Promtail, cAdvisor and NVIDIA's DCGM exporter are not in
 * Debian's archive (its `loki` package is a genetics program of the same
 * name, not Grafana's Loki): the lab skips those services
 * (monitoring_skip_services).
 */
const BASE: ServiceImage = {
  name: 'monitoring/base',
  dockerfile: `FROM ${IMAGE}
RUN ${APT} prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter prometheus-blackbox-exporter && rm -rf /var/lib/apt/lists/*
`,
  files: {},
};

/**
 * The real stack runs postgres_exporter with --collector.stat_statements
 * (PostgreSQLSlowQueries reads its pg_stat_statements_calls_total and
 * pg_stat_statements_seconds_total). Bookworm's package, 0.11.1, predates
 * the collectors (upstream CHANGELOG: 0.13.0 "Move queries from queries.yaml
 * to collectors", 0.14.0 "Fix pg_stat_statements metrics on Postgres 13+")
 * and refuses the flag. Trixie's 0.17.1 (packages.debian.org/trixie/
 * prometheus-postgres-exporter) has it, and its Go binary needs only
 * bookworm's libc (>= 2.34): that one package comes from trixie, pinned so
 * nothing else does, and the build fails if the flag is missing.
 */
const POSTGRES_EXPORTER_FROM_TRIXIE = [
  // The image's own mirror: deb822 (debian:bookworm) or sources.list (debootstrap).
  `RUN m=$(sed -n 's/^URIs:[[:space:]]*\\([^[:space:]]*\\).*/\\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1); \\`,
  `    [ -n "$m" ] || m=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list); \\`,
  `    echo "deb $m trixie main" > /etc/apt/sources.list.d/trixie.list && \\`,
  `    printf 'Package: *\\nPin: release n=trixie\\nPin-Priority: 100\\n' > /etc/apt/preferences.d/trixie && \\`,
  `    ${APT} prometheus-postgres-exporter/trixie && rm -rf /var/lib/apt/lists/* && \\`,
  `    prometheus-postgres-exporter --help 2>&1 | grep -q 'collector\\.stat_statements'`,
].join('\n');

interface Program {
  /** The real image stacks/monitoring.yml names. */
  real: string;
  name: string;
  /** Extra Dockerfile lines (directories, default configs at the real image's paths). */
  setup?: string;
  entrypoint: string[];
  cmd?: string[];
}

const PROGRAMS: Program[] = [
  {
    real: 'prom/prometheus:v2.55.1',
    name: 'prometheus',
    setup: 'RUN mkdir -p /prometheus',
    entrypoint: ['/usr/bin/prometheus'],
    cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
  },
  {
    real: 'prom/alertmanager:v0.27.0',
    name: 'alertmanager',
    setup: 'RUN mkdir -p /alertmanager',
    entrypoint: ['/usr/bin/prometheus-alertmanager'],
    cmd: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
  },
  { real: 'prom/node-exporter:v1.8.2', name: 'node-exporter', entrypoint: ['/usr/bin/prometheus-node-exporter'] },
  {
    real: 'prom/blackbox-exporter:v0.25.0',
    name: 'blackbox-exporter',
    // The real image reads /etc/blackbox_exporter/config.yml; Debian ships the same modules elsewhere.
    setup: 'RUN mkdir -p /etc/blackbox_exporter && cp /etc/prometheus/blackbox.yml /etc/blackbox_exporter/config.yml',
    entrypoint: ['/usr/bin/prometheus-blackbox-exporter'],
    cmd: ['--config.file=/etc/blackbox_exporter/config.yml'],
  },
  {
    real: 'quay.io/prometheuscommunity/postgres-exporter:v0.16.0',
    name: 'postgres-exporter',
    setup: POSTGRES_EXPORTER_FROM_TRIXIE,
    entrypoint: ['/usr/bin/prometheus-postgres-exporter'],
  },
];

const programImage = (p: Program): ServiceImage => ({
  name: `monitoring/${p.name}`,
  dockerfile: [`FROM ${pushRefOf(BASE)}`, p.setup, `ENTRYPOINT ${JSON.stringify(p.entrypoint)}`, p.cmd && `CMD ${JSON.stringify(p.cmd)}`].filter(Boolean).join('\n') + '\n',
  files: {},
});

/** Base first: every program's image is built FROM it. */
export const monitoringImages = (): ServiceImage[] => [BASE, ...PROGRAMS.map(programImage)];

/** Real image -> the lab registry's Debian-built image, as the nodes pull it (the lab inventory's stack_images). */
export function monitoringImageMap(): Record<string, string> {
  return Object.fromEntries(PROGRAMS.map((p) => [p.real, refOf(programImage(p))]));
}
