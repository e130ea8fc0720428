# A stand-in for one real image of the operators' stacks (scripts/lab/standins.ts
# describes each): it refuses to start where the real program would (a secret
# file missing, a model directory missing, no GPU assigned), with the real
# error's text; loads for as long as the real one before it listens; listens on
# the real ports, answers the real health endpoint's response shape (and a
# path the real program serves only behind a command-line flag only with it),
# writes into its volumes, and holds a connection to its PostgreSQL database
# with its own password. Its health answers 503 until that connection works,
# as the real applications do. The few behaviours of one image only (Gitea's and
# n8n's URLs, the registry's manifest deletes, act_runner's registration) are
# named functions below, used when the spec names them.
import hashlib, json, os, re, secrets, socket, sys, threading, time, http.server

SPEC = json.loads(os.environ["STANDIN"])


def env(var, default=""):
    """An environment variable as the real programs read theirs: set but empty counts as unset."""
    return os.environ.get(var) or default


def uses_database():
    """Whether the real program would use the PostgreSQL database at all: Gitea, n8n and Redmine fall back
    to SQLite when their database type is not set (spec `db.when`), and then never connect."""
    when = SPEC["db"].get("when")
    return not when or (env(when["env"]) == when["equals"] if "equals" in when else bool(env(when["env"])))


state = {"db": "not needed" if "db" not in SPEC or not uses_database() else "connecting"}
if "db" in SPEC and state["db"] == "not needed":
    print(f"standin {SPEC['name']}: {SPEC['db']['when']['env']} names no PostgreSQL: using SQLite, as the real program does", flush=True)


def fail(msg):
    print(f"standin {SPEC['name']}: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


for var in SPEC.get("files", []):
    path = os.environ.get(var)
    if not path or not os.access(path, os.R_OK):
        fail(f"{var} names no readable file ({path!r})")


def arg_value(flag):
    """A command-line flag's value, given as `FLAG VALUE` or `FLAG=VALUE` (Loki's -config.file=...)."""
    args = sys.argv[1:]
    for i, a in enumerate(args):
        if a == flag:
            return args[i + 1] if i + 1 < len(args) else None
        if a.startswith(flag + "="):
            return a[len(flag) + 1:]
    return None


# Paths the real program reads at start from its command line (SGLang's model directory, Loki's config file).
for flag, need in SPEC.get("path_args", {}).items():
    value = arg_value(flag)
    ok = value and (os.path.isdir(value) if need["is"] == "dir" else os.path.isfile(value) and os.access(value, os.R_OK))
    if not ok:
        fail(need["error"].format(flag=flag, path=value))

# Environment the real program needs set (Swarm's DOCKER_RESOURCE_<KIND> of a reserved GPU), each with its error.
for var, error in SPEC.get("requires_env", {}).items():
    if not os.environ.get(var):
        fail(error)


# --- Named behaviours of one image each (the spec names the one it has) ---

def gitea_urls():
    """Gitea 1.22's URLs (modules/setting/server.go, ssh.go; models/repo/repo.go ComposeSSHCloneURL): ROOT_URL,
    else PROTOCOL://DOMAIN[:HTTP_PORT]/ (http://localhost:3000/), always ending in one /; SSH clone URLs name
    SSH_DOMAIN (else DOMAIN) and, on any port but 22, take the ssh:// form with the port."""
    protocol, domain, http_port = env("GITEA__server__PROTOCOL", "http"), env("GITEA__server__DOMAIN", "localhost"), env("GITEA__server__HTTP_PORT", "3000")
    default = f"{protocol}://{domain}" + ("" if (protocol, http_port) in (("http", "80"), ("https", "443")) else f":{http_port}")
    root = env("GITEA__server__ROOT_URL", default).rstrip("/") + "/"
    ssh_domain, ssh_port = env("GITEA__server__SSH_DOMAIN", domain), int(env("GITEA__server__SSH_PORT", "22"))
    ssh_prefix = f"git@{ssh_domain}:" if ssh_port == 22 else f"ssh://git@{ssh_domain}:{ssh_port}/"
    return {"root_url": root, "ssh_prefix": ssh_prefix}


def n8n_urls():
    """n8n 1.70's webhook base (UrlService.getWebhookBaseUrl): WEBHOOK_URL, else N8N_PROTOCOL://N8N_HOST:N8N_PORT
    with N8N_PATH (the port left out for http:80 and https:443), always ending in /; the editor's base likewise
    from N8N_EDITOR_BASE_URL. Defaults http, localhost, 5678, / (docs.n8n.io, deployment environment variables)."""
    protocol, host, port, path = env("N8N_PROTOCOL", "http"), env("N8N_HOST", "localhost"), env("N8N_PORT", "5678"), env("N8N_PATH", "/")
    base = f"{protocol}://{host}" + ("" if (protocol, port) in (("http", "80"), ("https", "443")) else f":{port}") + path
    slash = lambda u: u if u.endswith("/") else u + "/"
    return {"webhook_base": slash(env("WEBHOOK_URL", base)), "editor_base": slash(env("N8N_EDITOR_BASE_URL", base))}


URLS = {"gitea": gitea_urls, "n8n": n8n_urls}
urls = URLS[SPEC["urls"]]() if "urls" in SPEC else {}


def filled(value):
    """An answer's JSON with the image's URLs ({root_url}, {webhook_base}, ...) put in."""
    if isinstance(value, str):
        return value.format_map(urls) if urls else value
    if isinstance(value, list):
        return [filled(v) for v in value]
    if isinstance(value, dict):
        return {k: filled(v) for k, v in value.items()}
    return value


RUNNER_WARNING = "This file is automatically generated by act-runner. Do not edit it manually unless you know what you are doing. Removing this file will cause act runner to re-register as a new runner."
# act_runner 0.2.x's labels when none are given (internal/app/cmd/register.go defaultLabels).
RUNNER_DEFAULT_LABELS = ["ubuntu-latest:docker://gitea/runner-images:ubuntu-latest", "ubuntu-22.04:docker://gitea/runner-images:ubuntu-22.04", "ubuntu-20.04:docker://gitea/runner-images:ubuntu-20.04"]


def act_runner_start(runner):
    """The gitea/act_runner image's run.sh: register (`act_runner register --no-interactive` with the
    instance, the token from GITEA_RUNNER_REGISTRATION_TOKEN or its _FILE, GITEA_RUNNER_LABELS) only while
    the state file (.runner in /data) is missing or empty, then `act_runner daemon`, which runs with the
    labels registered: a later GITEA_RUNNER_LABELS is not read. The stand-in registers without calling
    Gitea (the real one pings it first); it refuses what register's input check refuses."""
    state_file = os.path.join(runner["dir"], ".runner")
    if not (os.path.isfile(state_file) and os.path.getsize(state_file) > 0):
        token = env("GITEA_RUNNER_REGISTRATION_TOKEN")
        if not token and os.path.isfile(env("GITEA_RUNNER_REGISTRATION_TOKEN_FILE")):
            try:
                with open(env("GITEA_RUNNER_REGISTRATION_TOKEN_FILE")) as f:
                    token = f.read().strip()
            except OSError:
                token = ""
        # register.go registerInputs.validate: the instance, the token, then each label's schema (labels.Parse).
        if not env("GITEA_INSTANCE_URL"):
            fail('level=error msg="Invalid input, please re-run act command." error="instance address is empty"')
        if not token:
            fail('level=error msg="Invalid input, please re-run act command." error="token is empty"')
        labels = [l.strip() for l in env("GITEA_RUNNER_LABELS").split(",") if l.strip()] or RUNNER_DEFAULT_LABELS
        for label in labels:
            schema = label.split(":", 2)[1] if ":" in label else "host"
            if schema not in ("host", "docker"):
                fail(f'level=error msg="Invalid input, please re-run act command." error="unsupported schema: {schema}"')
        os.makedirs(runner["dir"], exist_ok=True)
        reg = {"WARNING": RUNNER_WARNING, "id": 1, "uuid": secrets.token_hex(16), "name": env("GITEA_RUNNER_NAME", socket.gethostname()),
               "token": secrets.token_hex(20), "address": env("GITEA_INSTANCE_URL"), "labels": labels}
        with open(state_file, "w") as f:
            json.dump(reg, f, indent=2)
        print(f"standin {SPEC['name']}: Runner registered successfully.", flush=True)
    with open(state_file) as f:
        reg = json.load(f)
    print(f"standin {SPEC['name']}: daemon: runner: {reg['name']}, with labels: {reg['labels']}", flush=True)


if "runner" in SPEC:
    act_runner_start(SPEC["runner"])

for d in SPEC.get("writes", []):
    os.makedirs(d, exist_ok=True)
    marker = os.path.join(d, f"standin-{SPEC['name']}.txt")
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(f"written by the {SPEC['name']} stand-in at first start\n")


def hold_database():
    import psycopg2
    db = SPEC["db"]
    host, _, port = os.environ[db["host"]].partition(":")
    with open(os.environ[db["password_file"]]) as f:
        password = f.read().strip()
    while True:
        try:
            conn = psycopg2.connect(host=host, port=int(port or 5432), dbname=os.environ[db["name"]], user=os.environ[db["user"]], password=password, connect_timeout=5, application_name=f"standin-{SPEC['name']}")
            state["db"] = "connected"
            while True:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                time.sleep(5)
        except Exception as err:  # any failure: report it and retry, as the real applications do
            state["db"] = f"error: {str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}"
            print(f"standin {SPEC['name']}: database {state['db']}", file=sys.stderr, flush=True)
            time.sleep(2)


def tailed_files():
    # Promtail tails every file its config's static_configs' __path__ globs match (grafana/loki
    # clients/pkg/promtail/targets/file: a glob per target), and reports them as
    # promtail_files_active_total and promtail_file_bytes_total{path}.
    import glob, yaml
    args = sys.argv[1:]
    flag = SPEC["tails"]["config_arg"]
    config = next((a.split("=", 1)[1] for a in args if a.startswith(flag + "=")), None)
    with open(config) as f:
        doc = yaml.safe_load(f)
    paths = [sc["labels"]["__path__"] for job in doc.get("scrape_configs", []) for sc in job.get("static_configs", [])]
    return sorted({p for g in paths for p in glob.glob(g)})


def tail_metrics():
    files = tailed_files()
    lines = [f"promtail_files_active_total {len(files)}"]
    lines += [f'promtail_file_bytes_total{{path="{p}"}} {os.path.getsize(p)}' for p in files]
    return "\n".join(lines) + "\n"


if "tails" in SPEC:
    try:
        tailed_files()
    except Exception as err:  # Promtail exits at start on a config it cannot read
        fail(f"error loading config file: {err}")


# registry:2.8.3 (distribution): manifests under /v2/<name>/manifests/<reference>, kept in its storage root.
MANIFEST = re.compile(r"^/v2/(?P<name>[a-z0-9]+(?:[._/-][a-z0-9]+)*)/manifests/(?P<ref>[^/]+)$")
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


def registry_error(code, message):
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


def registry_manifests(method, path, body):
    """The manifest routes a deploy relies on (distribution's docs/spec/api.md), or None for another path:
    PUT stores a manifest (its digest: sha256 of the bytes), GET reads one by tag or digest, DELETE removes
    one by digest. DELETE answers 405 UNSUPPORTED unless storage.delete.enabled, which the image reads from
    REGISTRY_STORAGE_DELETE_ENABLED (docs/configuration.md: `delete` "Use the delete structure to enable the
    deletion of image blobs and manifests by digest. It defaults to false"; environment REGISTRY_<SECTION>_<KEY>);
    then "reference must be a digest or the delete will fail" (400 DIGEST_INVALID), unknown: 404 MANIFEST_UNKNOWN,
    deleted: 202. The stand-in checks no blob a manifest names."""
    m = MANIFEST.match(path)
    if not m:
        return None
    reg = SPEC["registry"]
    repo = os.path.join(reg["root"], "docker/registry/v2/repositories", m["name"], "_manifests")
    ref = m["ref"]
    tag_file = lambda tag: os.path.join(repo, "tags", tag, "current", "link")
    rev_file = lambda dgst: os.path.join(repo, "revisions", "sha256", dgst.split(":", 1)[1], "data")
    headers = {}
    if method == "PUT":
        dgst = "sha256:" + hashlib.sha256(body).hexdigest()
        if DIGEST.match(ref) and ref != dgst:
            return 400, registry_error("DIGEST_INVALID", "provided digest did not match uploaded content"), headers
        os.makedirs(os.path.dirname(rev_file(dgst)), exist_ok=True)
        with open(rev_file(dgst), "wb") as f:
            f.write(body)
        if not DIGEST.match(ref):
            os.makedirs(os.path.dirname(tag_file(ref)), exist_ok=True)
            with open(tag_file(ref), "w") as f:
                f.write(dgst)
        return 201, b"", {"Docker-Content-Digest": dgst, "Location": f"/v2/{m['name']}/manifests/{dgst}"}
    if method == "GET":
        dgst = ref
        if not DIGEST.match(ref):
            try:
                with open(tag_file(ref)) as f:
                    dgst = f.read().strip()
            except OSError:
                return 404, registry_error("MANIFEST_UNKNOWN", "manifest unknown"), headers
        if not os.path.isfile(rev_file(dgst)):
            return 404, registry_error("MANIFEST_UNKNOWN", "manifest unknown"), headers
        with open(rev_file(dgst), "rb") as f:
            return 200, f.read(), {"Docker-Content-Digest": dgst}
    if method == "DELETE":
        if env(reg["delete_env"]).lower() != "true":
            return 405, registry_error("UNSUPPORTED", "The operation is unsupported."), headers
        if not DIGEST.match(ref):
            return 400, registry_error("DIGEST_INVALID", "provided digest did not match uploaded content"), headers
        if not os.path.isfile(rev_file(ref)):
            return 404, registry_error("MANIFEST_UNKNOWN", "manifest unknown"), headers
        os.remove(rev_file(ref))
        tags = os.path.join(repo, "tags")
        for tag in os.listdir(tags) if os.path.isdir(tags) else []:
            if os.path.isfile(tag_file(tag)):
                with open(tag_file(tag)) as f:
                    linked = f.read().strip()
                if linked == ref:
                    os.remove(tag_file(tag))
        return 202, b"", headers
    return 405, registry_error("UNSUPPORTED", "The operation is unsupported."), headers


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body, kind, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def registry(self, method):
        """The registry's manifest routes, if this stand-in is the registry's and the path is one: True when answered."""
        if "registry" not in SPEC:
            return False
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "PUT" else b""
        answer = registry_manifests(method, self.path.split("?")[0], body)
        if answer is None:
            return False
        status, out, headers = answer
        self.reply(status, out, "application/json; charset=utf-8" if status >= 400 else "application/vnd.docker.distribution.manifest.v2+json", headers)
        return True

    def do_PUT(self):
        if not self.registry("PUT"):
            self.reply(405, b"", "text/plain")

    def do_DELETE(self):
        if not self.registry("DELETE"):
            self.reply(405, b"", "text/plain")

    def do_GET(self):
        if self.registry("GET"):
            return
        answer = SPEC["http"]["paths"].get(self.path.split("?")[0])
        lock = SPEC.get("install_lock")
        if lock and env(lock["env"]).lower() != lock["equals"]:
            # Not installed: only the web installer's form answers (Gitea's install routes), every other path 404.
            answer = {"text": lock["page"]} if self.path.split("?")[0] == "/" else None
        if answer is not None and answer.get("tail_metrics"):
            answer = {"text": tail_metrics()}
        if answer is not None and answer.get("when_arg") and answer["when_arg"] not in sys.argv[1:]:
            answer = None  # a route the real program adds only when started with this flag
        if answer is None:
            status, body, kind = 404, b"404 page not found\n", "text/plain"
        elif state["db"] not in ("connected", "not needed"):
            status, body, kind = 503, json.dumps({"database": state["db"]}).encode(), "application/json"
        elif "json" in answer:
            status, body, kind = answer.get("status", 200), json.dumps(filled(answer["json"])).encode(), "application/json"
        else:
            status, body, kind = answer.get("status", 200), answer.get("text", "").encode(), "text/plain; charset=utf-8"
        self.reply(status, body, kind)

    def log_message(self, *args):
        pass


def serve_tcp(port, banner):
    srv = socket.create_server(("", port))
    while True:
        c, _ = srv.accept()
        try:
            c.sendall(banner.encode())
        finally:
            c.close()


# The real program's load before it listens (SGLang loads its model before uvicorn binds the port): nothing
# answers meanwhile, so a healthcheck's curl is refused, as on the real server.
load = SPEC.get("load")
if load:
    seconds = float(os.environ.get(load["env"]) or load["seconds"])
    print(f"standin {SPEC['name']}: loading for {seconds:g} s ({load['env']})", flush=True)
    time.sleep(seconds)

if "db" in SPEC:
    threading.Thread(target=hold_database, daemon=True).start()
for port, banner in SPEC.get("tcp", {}).items():
    threading.Thread(target=serve_tcp, args=(int(port), banner), daemon=True).start()
ports = SPEC.get("http", {}).get("ports", [])
# The variable the real program takes its HTTP port from (n8n's N8N_PORT, Gitea's HTTP_PORT, Grafana's
# http_port): set, it listens there instead, and a stack publishing the default port reaches nothing.
if SPEC.get("http", {}).get("port_env") and env(SPEC["http"]["port_env"]):
    ports = [int(env(SPEC["http"]["port_env"]))]
for port in ports:
    srv = http.server.ThreadingHTTPServer(("", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
print(f"standin {SPEC['name']}: listening on {ports} {list(SPEC.get('tcp', {}))}", flush=True)
threading.Event().wait()
