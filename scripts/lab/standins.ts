import { readFileSync } from 'node:fs';
import { IMAGE } from './config.ts';
import { APT, pushRefOf, refOf, serviceImageRefs, type ServiceImage } from './services.ts';
import { monitoringImageMap } from './monitoring-images.ts';

/**
 * The rehearsal's stand-ins: one per image of the real stacks that the lab
 * cannot pull (no registry but its own is reachable here). Each is the lab's
 * base image running scripts/lab/standin.py with the spec below: the real
 * ports, the real health endpoint's response shape, the real volumes
 * written, the secret files and model directory the real program needs, and
 * its database reached with its own user and password. PostgreSQL is not
 * stood in for: it is the lab's real PostgreSQL image.
 */
interface Answer {
  status?: number;
  json?: unknown;
  text?: string;
  /** A route the real program adds only when started with this command-line flag: 404 without it. */
  when_arg?: string;
  /** Promtail's /metrics: the files its config's globs match, read at each request. */
  tail_metrics?: boolean;
}

export interface StandInSpec {
  /** The stand-in's name: lab/standin/NAME in the lab registry. */
  name: string;
  /** `port_env`: the variable the real program reads its one HTTP port from (listening there when it is set). */
  http?: { ports: number[]; paths: Record<string, Answer>; port_env?: string };
  /** TCP ports that only send a banner (Gitea's SSH). */
  tcp?: Record<string, string>;
  /** Volume mount points it writes a marker file into. */
  writes?: string[];
  /** Environment variables naming files (swarm secrets) that must be readable at start. */
  files?: string[];
  /**
   * Command-line flags (`FLAG VALUE` or `FLAG=VALUE`) whose value must be an existing directory or a readable
   * file (SGLang's --model-path, Loki's -config.file), each with the real program's error ({path}: the value given).
   */
  path_args?: Record<string, { is: 'dir' | 'file'; error: string }>;
  /** Its URLs computed from its environment as the real program computes them (standin.py's URLS), put into `{name}`s of its JSON answers. */
  urls?: 'gitea' | 'n8n';
  /** The registry's manifest routes (PUT, GET, DELETE) in its storage root; DELETE only when `delete_env` is "true". */
  registry?: { root: string; delete_env: string };
  /** act_runner's register-once-then-daemon in `dir` (its .runner file). */
  runner?: { dir: string };
  /** Environment variables that must be set and non-empty, each with the real program's error when not. */
  requires_env?: Record<string, string>;
  /** The real program's load time before it listens: seconds from this environment variable, else `seconds`. */
  load?: { env: string; seconds: number };
  /** Gitea: not installed (its web installer only, every other path 404) unless this variable equals this value. */
  install_lock?: { env: string; equals: string; page: string };
  /** Promtail: the command-line flag naming its config file, whose __path__ globs it tails. */
  tails?: { config_arg: string };
  /** Environment variables holding its database connection (a password file, as the real images read it). */
  db?: {
    host: string;
    name: string;
    user: string;
    password_file: string;
    /** The variable choosing PostgreSQL (set, or equal to `equals`): without it the real program uses SQLite and never connects. */
    when?: { env: string; equals?: string };
  };
}

/**
 * How long the SGLang stand-in loads in the rehearsal: as the real 9B model over NFS does, about 120 s
 * (issue 29), inside its 150 s health window. stacks/ai.yml's healthcheck (start_period 90 s, interval
 * 30 s, retries 3) counts the failed probes at ~90, ~120 and ~150 s after the container starts; the
 * load ends at about the ~120 s probe (which may just miss it), so the ~150 s probe, the last a slow
 * start can pass, finds it listening at the latest. Every rehearsal converge of the ai stack waits that
 * long, as the real cluster's does; the gates wait for Docker's verdict from the container's start
 * (lib/ops/docker/health-window.ts), so an image pull before it costs the window nothing.
 */
export const REHEARSAL_SGLANG_LOAD_SECONDS = 120;

/** Real image (as the stack files name it, after the inventory's ${VAR}s) -> what stands in for it. */
export const STANDINS: Record<string, StandInSpec> = {
  'portainer/portainer-ce:2.21.4': {
    name: 'portainer',
    http: { ports: [9443], paths: { '/api/system/status': { json: { Version: '2.21.4', InstanceID: 'standin' } } } },
    writes: ['/data'],
  },
  'jc21/nginx-proxy-manager:2.12.1': {
    name: 'nginx-proxy-manager',
    http: { ports: [80, 81, 443], paths: { '/api/': { json: { status: 'OK', setup: true, version: { major: 2, minor: 12, revision: 1 } } } } },
    writes: ['/data', '/etc/letsencrypt'],
  },
  // cloudflared 2025.4.0 takes `tunnel run`'s token from the file TUNNEL_TOKEN_FILE names (--token-file) and stops
  // when it cannot read it ("Failed to read token file": cmd/cloudflared/tunnel/cmd.go). The token's own format is
  // not checked: the rehearsal's is homelab.yml's example value, no real tunnel's.
  'cloudflare/cloudflared:2025.4.0': { name: 'cloudflared', files: ['TUNNEL_TOKEN_FILE'] },
  // n8n 1.70:
  // - its webhooks' base is WEBHOOK_URL, else N8N_PROTOCOL://N8N_HOST:N8N_PORT/ ("n8n creates the webhook URL by
  //   combining N8N_PROTOCOL, N8N_HOST and N8N_PORT. If n8n runs behind a reverse proxy, that won't work":
  //   docs.n8n.io/hosting/configuration/configuration-examples/webhook-url; defaults http, localhost, 5678 on the
  //   "Deployment" environment variables page); the editor reads it as urlBaseWebhook from /rest/settings
  //   ({"data": {...}}, served before login: packages/cli/src/services/frontend.service.ts);
  // - PostgreSQL only with DB_TYPE=postgresdb, else SQLite ("By default, n8n uses SQLite": docs.n8n.io, "Supported
  //   databases"); a *_FILE variable naming no readable file stops it ("Keeping sensitive data in separate files").
  'n8nio/n8n:1.70.3': {
    name: 'n8n',
    http: {
      ports: [5678],
      // N8N_PORT: "The HTTP port n8n runs on" (docs.n8n.io, deployment environment variables).
      port_env: 'N8N_PORT',
      paths: { '/healthz': { json: { status: 'ok' } }, '/rest/settings': { json: { data: { urlBaseWebhook: '{webhook_base}', urlBaseEditor: '{editor_base}', versionCli: '1.70.3' } } } },
    },
    urls: 'n8n',
    writes: ['/home/node/.n8n'],
    files: ['DB_POSTGRESDB_PASSWORD_FILE'],
    db: { host: 'DB_POSTGRESDB_HOST', name: 'DB_POSTGRESDB_DATABASE', user: 'DB_POSTGRESDB_USER', password_file: 'DB_POSTGRESDB_PASSWORD_FILE', when: { env: 'DB_TYPE', equals: 'postgresdb' } },
  },
  // Grafana's image reads each GF_<SECTION>_<KEY>__FILE into its variable before the server starts (its run.sh;
  // "Configure Grafana", "Override configuration with environment variables"): the admin password here.
  'grafana/grafana:11.3.1': {
    name: 'grafana',
    // /metrics: the monitoring stack's Prometheus scrapes the real one there.
    // [server] http_port, as GF_SERVER_HTTP_PORT: "The port to bind to, defaults to 3000" (grafana.com, "Configure Grafana").
    http: {
      ports: [3000],
      port_env: 'GF_SERVER_HTTP_PORT',
      paths: { '/api/health': { json: { commit: 'standin', database: 'ok', version: '11.3.1' } }, '/metrics': { text: 'grafana_build_info{version="11.3.1"} 1\n' } },
    },
    writes: ['/var/lib/grafana'],
    files: ['GF_SECURITY_ADMIN_PASSWORD__FILE'],
  },
  // Loki and Promtail read the file -config.file names at start (the monitoring role writes both, bind-mounted) and
  // exit 1 when they cannot: cmd/loki/main.go and clients/cmd/promtail/main.go print "failed parsing config: %v" of
  // pkg/util/cfg's "Error reading config file" (grafana/loki, docs "Configuration": "pass the YAML file with -config.file").
  'grafana/loki:3.3.0': {
    name: 'loki',
    http: { ports: [3100], paths: { '/ready': { text: 'ready\n' }, '/metrics': { text: 'loki_build_info{version="3.3.0"} 1\n' } } },
    path_args: { '-config.file': { is: 'file', error: 'failed parsing config: Error reading config file: open {path}: no such file or directory' } },
    writes: ['/loki'],
  },
  // Promtail also tails what its config's globs match: its /metrics report them (promtail_files_active_total,
  // promtail_file_bytes_total{path}), so the rehearsal shows each node's container logs are found under that
  // node's Docker root.
  'grafana/promtail:3.3.0': {
    name: 'promtail',
    http: { ports: [9080], paths: { '/ready': { text: 'Ready' }, '/metrics': { tail_metrics: true } } },
    path_args: { '-config.file': { is: 'file', error: 'failed parsing config: Error reading config file: open {path}: no such file or directory' } },
    tails: { config_arg: '-config.file' },
  },
  // As sgl-project/sglang's v0.3.x python/sglang/srt/server.py does (the operators pin v0.3.6):
  // - /metrics exists only with --enable-metrics (launch_server: `if server_args.enable_metrics:
  //   add_prometheus_middleware(app)`; the monitoring role's sglang job scrapes it);
  // - nothing listens while the model loads (launch_engine waits on the scheduler's "ready" before
  //   uvicorn.run binds the port), then /health answers 200;
  // - a --model-path that is no directory is taken for a Hugging Face repo id, which an absolute
  //   path is not (sglang#18620); no GPU: torch's CUDA initialisation fails in the scheduler.
  // Swarm gives a task that reserved a generic resource its id as DOCKER_RESOURCE_<KIND> (the nvidia
  // role names the kind NVIDIA-GPU), so that variable is "a GPU assigned".
  'lmsysorg/sglang:v0.3.6-cu124': {
    name: 'sglang',
    http: {
      ports: [8000],
      paths: {
        '/health': { text: '' },
        '/metrics': { text: 'sglang:num_running_reqs{model_name="glm-4-9b-chat"} 0\n', when_arg: '--enable-metrics' },
        '/v1/models': { json: { object: 'list', data: [{ id: 'glm-4-9b-chat', object: 'model', owned_by: 'sglang' }] } },
      },
    },
    path_args: {
      '--model-path': { is: 'dir', error: "huggingface_hub.errors.HFValidationError: Repo id must be in the form 'repo_name' or 'namespace/repo_name': '{path}'. Use `repo_type` argument if needed." },
    },
    requires_env: { 'DOCKER_RESOURCE_NVIDIA-GPU': 'RuntimeError: No CUDA GPUs are available' },
    load: { env: 'SGLANG_STANDIN_LOAD_SECONDS', seconds: REHEARSAL_SGLANG_LOAD_SECONDS },
  },
  // EXTRAS gives it the `ollama list` its healthcheck runs (the real image has no curl).
  'ollama/ollama:0.4.7': {
    name: 'ollama',
    http: { ports: [11434], paths: { '/api/tags': { json: { models: [] } }, '/': { text: 'Ollama is running' } } },
    writes: ['/root/.ollama'],
  },
  'cicd.vibe.local:5000/vibe/langgraph-agent:1.4.0': {
    name: 'langgraph',
    http: { ports: [8888], paths: { '/ok': { json: { ok: true } }, '/health': { json: { ok: true } } } },
    // Its own role and database (stacks/ai.yml), so the rehearsal shows it logs in as langgraph, not as the superuser.
    files: ['DATABASE_PASSWORD_FILE'],
    db: { host: 'DATABASE_HOST', name: 'DATABASE_NAME', user: 'DATABASE_USER', password_file: 'DATABASE_PASSWORD_FILE' },
  },
  // Gitea 1.22 (docs.gitea.com "Config Cheat Sheet", [server]; any key as GITEA__section__KEY, "Installation with Docker"):
  // - ROOT_URL, the public URL in every clone and web link, defaults to PROTOCOL://DOMAIN:HTTP_PORT/, i.e.
  //   http://localhost:3000/; SSH clone URLs name SSH_DOMAIN (default DOMAIN) and SSH_PORT, in the ssh:// form off 22
  //   (models/repo/repo.go ComposeSSHCloneURL): the repository's API answer carries both (clone_url, ssh_url);
  // - PostgreSQL only with [database] DB_TYPE=postgres: the image's default is sqlite3 (docker/root/etc/s6/gitea/setup
  //   `DB_TYPE=${DB_TYPE:-"sqlite3"}`); PASSWD__FILE is read by its environment-to-ini (the __FILE suffix).
  'gitea/gitea:1.22.4': {
    name: 'gitea',
    http: {
      ports: [3000],
      // [server] HTTP_PORT: "HTTP listen port", default 3000 (config cheat sheet).
      port_env: 'GITEA__server__HTTP_PORT',
      paths: {
        '/api/v1/version': { json: { version: '1.22.4' } },
        // The repository the stand-in writes under /data/git/repositories (below).
        '/api/v1/repos/vibe/app': { json: { id: 1, name: 'app', full_name: 'vibe/app', html_url: '{root_url}vibe/app', clone_url: '{root_url}vibe/app.git', ssh_url: '{ssh_prefix}vibe/app.git' } },
      },
    },
    urls: 'gitea',
    // The image writes INSTALL_LOCK = false into a fresh app.ini unless INSTALL_LOCK or SECRET_KEY is given
    // (go-gitea/gitea docker/root/etc/s6/gitea/setup); environment-to-ini then applies GITEA__security__INSTALL_LOCK.
    // Unlocked, Gitea runs only its installer (routers/install), so the API and the health check 404.
    install_lock: { env: 'GITEA__security__INSTALL_LOCK', equals: 'true', page: '<!DOCTYPE html><title>Installation - Gitea: Git with a cup of tea</title>' },
    tcp: { '22': 'SSH-2.0-Go\r\n' },
    // Where the real image keeps its data and repositories (what `gitea dump` takes).
    writes: ['/data/gitea', '/data/git/repositories/vibe/app.git'],
    files: ['GITEA__database__PASSWD__FILE', 'GITEA__security__SECRET_KEY__FILE'],
    db: { host: 'GITEA__database__HOST', name: 'GITEA__database__NAME', user: 'GITEA__database__USER', password_file: 'GITEA__database__PASSWD__FILE', when: { env: 'GITEA__database__DB_TYPE', equals: 'postgres' } },
  },
  // The redmine image's docker-entrypoint.sh (docker-library/redmine) picks its database adapter by which host
  // variable is set (REDMINE_DB_MYSQL, REDMINE_DB_POSTGRES, REDMINE_DB_SQLSERVER), else SQLite; its file_env stops
  // the container on a REDMINE_DB_PASSWORD_FILE it cannot read (`set -e`).
  'redmine:5.1': {
    name: 'redmine',
    http: { ports: [3000], paths: { '/': { text: '<!DOCTYPE html><html><head><title>Redmine</title></head><body>Redmine</body></html>' } } },
    writes: ['/usr/src/redmine/files'],
    files: ['REDMINE_DB_PASSWORD_FILE'],
    db: { host: 'REDMINE_DB_POSTGRES', name: 'REDMINE_DB_DATABASE', user: 'REDMINE_DB_USERNAME', password_file: 'REDMINE_DB_PASSWORD_FILE', when: { env: 'REDMINE_DB_POSTGRES' } },
  },
  // The monitoring stack's services Debian does not package (Prometheus, Alertmanager and the other
  // exporters run in the lab from Debian's packages: scripts/lab/monitoring-images.ts).
  'gcr.io/cadvisor/cadvisor:v0.49.1': {
    name: 'cadvisor',
    http: { ports: [8080], paths: { '/healthz': { text: 'ok' }, '/metrics': { text: 'cadvisor_version_info{cadvisorVersion="v0.49.1"} 1\n' } } },
  },
  // The real exporter's default counters (NVIDIA/dcgm-exporter etc/default-counters.csv) include
  // DCGM_FI_DEV_FB_FREE and DCGM_FI_DEV_FB_USED, "Framebuffer memory free/used (in MiB)", gauges labelled
  // gpu, UUID, device, modelName, Hostname: GPUMemoryHigh reads both. The stand-in serves both, as an
  // idle 16 GiB card would report them, and the other default counters the GPU dashboard reads
  // (DCGM_FI_DEV_GPU_UTIL %, DCGM_FI_DEV_GPU_TEMP C, DCGM_FI_DEV_POWER_USAGE W).
  'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.8-3.6.0-ubuntu22.04': {
    name: 'dcgm-exporter',
    http: {
      ports: [9400],
      paths: {
        '/metrics': {
          text: [
            '# HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB).',
            '# TYPE DCGM_FI_DEV_FB_FREE gauge',
            'DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-00000000-standin-lab-0000-000000000000",device="nvidia0",modelName="stand-in"} 16384',
            '# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).',
            '# TYPE DCGM_FI_DEV_FB_USED gauge',
            'DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-00000000-standin-lab-0000-000000000000",device="nvidia0",modelName="stand-in"} 0',
            '# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).',
            '# TYPE DCGM_FI_DEV_GPU_UTIL gauge',
            'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-00000000-standin-lab-0000-000000000000",device="nvidia0",modelName="stand-in"} 0',
            '# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).',
            '# TYPE DCGM_FI_DEV_GPU_TEMP gauge',
            'DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-00000000-standin-lab-0000-000000000000",device="nvidia0",modelName="stand-in"} 35',
            '# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).',
            '# TYPE DCGM_FI_DEV_POWER_USAGE gauge',
            'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-00000000-standin-lab-0000-000000000000",device="nvidia0",modelName="stand-in"} 20',
            '',
          ].join('\n'),
        },
      },
    },
  },
  // distribution's registry: deleting a manifest is refused (405 UNSUPPORTED) unless storage.delete.enabled
  // (distribution docs/configuration.md, "delete"; REGISTRY_STORAGE_DELETE_ENABLED, its environment form), which
  // stacks/cicd.yml sets; standin.py's registry_manifests says what else it answers.
  'registry:2.8.3': {
    name: 'registry',
    http: { ports: [5000], paths: { '/v2/': { json: {} } } },
    registry: { root: '/var/lib/registry', delete_env: 'REGISTRY_STORAGE_DELETE_ENABLED' },
    writes: ['/var/lib/registry'],
  },
  // The gitea/act_runner image's scripts/run.sh (gitea.com/gitea/act_runner): registers once (GITEA_INSTANCE_URL,
  // the token or its _FILE, GITEA_RUNNER_LABELS) into /data/.runner, only while that file is missing or empty, and
  // the daemon runs with the labels registered there on every later start; standin.py's act_runner_start says what it refuses.
  'gitea/act_runner:0.2.11': { name: 'act_runner', runner: { dir: '/data' }, writes: ['/data'] },
};

/** The real images that are not stood in for: the lab runs the real program (built from Debian's package). */
export const REAL_IN_LAB: Record<string, keyof ReturnType<typeof serviceImageRefs>> = { 'postgres:16-alpine': 'postgres' };

const BASE: ServiceImage = {
  name: 'standin/base',
  dockerfile: `FROM ${IMAGE}
RUN ${APT} python3-psycopg2 python3-yaml && rm -rf /var/lib/apt/lists/*
COPY standin.py /standin.py
ENTRYPOINT ["python3", "/standin.py"]
`,
  files: { 'standin.py': readFileSync(new URL('./standin.py', import.meta.url), 'utf8') },
};

/**
 * What a stand-in needs beyond the spec: Gitea's `gitea dump` (the backup's
 * gitea item runs it as git), and unzip, with which the recovery unpacks the
 * dump in a container of the Gitea image.
 */
const EXTRAS: Record<string, Pick<ServiceImage, 'dockerfile' | 'files'>> = {
  ollama: {
    dockerfile: `COPY ollama-list.py /usr/local/bin/ollama
RUN chmod 755 /usr/local/bin/ollama
`,
    files: { 'ollama-list.py': readFileSync(new URL('./ollama-list.py', import.meta.url), 'utf8') },
  },
  gitea: {
    dockerfile: `RUN ${APT} unzip && rm -rf /var/lib/apt/lists/* && useradd -u 1000 -m -s /bin/sh git
COPY gitea-dump.py /usr/local/bin/gitea
RUN chmod 755 /usr/local/bin/gitea
`,
    files: { 'gitea-dump.py': readFileSync(new URL('./gitea-dump.py', import.meta.url), 'utf8') },
  },
};

const standinImage = (spec: StandInSpec): ServiceImage => ({
  name: `standin/${spec.name}`,
  // The spec is the image's environment, so the real stack's own environment stays as it is.
  dockerfile: `FROM ${pushRefOf(BASE)}\n${EXTRAS[spec.name]?.dockerfile ?? ''}ENV STANDIN=${JSON.stringify(JSON.stringify(spec))}\n`,
  files: EXTRAS[spec.name]?.files ?? {},
});

/** What `lab.ts rehearse` may change of the stand-ins (each option's default: the real program's figure). */
export interface StandinOptions {
  /**
   * Seconds the SGLang stand-in loads before it listens: REHEARSAL_SGLANG_LOAD_SECONDS, the real model's,
   * unless a suite that does not test the load (a recovery drill) asks for less to spare CI the wait.
   */
  modelLoadSeconds?: number;
}

const SGLANG_IMAGE = 'lmsysorg/sglang:v0.3.6-cu124';

/** The stand-ins' specs with the options applied: another load is another spec, so another image (its tag is a hash of it). */
function standinSpecs(options: StandinOptions = {}): Record<string, StandInSpec> {
  const seconds = options.modelLoadSeconds ?? REHEARSAL_SGLANG_LOAD_SECONDS;
  if (seconds === REHEARSAL_SGLANG_LOAD_SECONDS) return STANDINS;
  const sglang = STANDINS[SGLANG_IMAGE]!;
  return { ...STANDINS, [SGLANG_IMAGE]: { ...sglang, load: { ...sglang.load!, seconds } } };
}

/** Base first: every stand-in is built FROM it. */
export const standinImages = (options: StandinOptions = {}): ServiceImage[] => [BASE, ...Object.values(standinSpecs(options)).map(standinImage)];

/**
 * The rehearsal's image map: every real image -> the lab registry's stand-in, the lab's real build
 * (PostgreSQL), or the monitoring program built from Debian's package (monitoring-images.ts).
 */
export function rehearsalImageMap(options: StandinOptions = {}): Record<string, string> {
  const lab = serviceImageRefs();
  return {
    ...Object.fromEntries(Object.entries(standinSpecs(options)).map(([real, spec]) => [real, refOf(standinImage(spec))])),
    ...monitoringImageMap(),
    ...Object.fromEntries(Object.entries(REAL_IN_LAB).map(([real, name]) => [real, lab[name]!])),
  };
}
