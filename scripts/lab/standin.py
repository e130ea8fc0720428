# A stand-in for one real image of the operators' stacks (scripts/lab/standins.ts
# describes each): it refuses to start where the real program would (a secret
# file missing, a model directory missing, no GPU assigned), with the real
# error's text; loads for as long as the real one before it listens; listens on
# the real ports, answers the real health endpoint's response shape (and a
# path the real program serves only behind a command-line flag only with it),
# writes into its volumes, and holds a connection to its PostgreSQL database
# with its own password. Its health answers 503 until that connection works,
# as the real applications do.
import json, os, socket, sys, threading, time, http.server

SPEC = json.loads(os.environ["STANDIN"])
state = {"db": "not needed" if "db" not in SPEC else "connecting"}


def fail(msg):
    print(f"standin {SPEC['name']}: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


for var in SPEC.get("files", []):
    path = os.environ.get(var)
    if not path or not os.access(path, os.R_OK):
        fail(f"{var} names no readable file ({path!r})")

if "model_arg" in SPEC:
    args = sys.argv[1:]
    flag = SPEC["model_arg"]
    model = args[args.index(flag) + 1] if flag in args else None
    if not model or not os.path.isdir(model):
        fail(SPEC.get("model_error", "{flag} {path!r} is not a directory").format(flag=flag, path=model))

# Environment the real program needs set (Swarm's DOCKER_RESOURCE_<KIND> of a reserved GPU), each with its error.
for var, error in SPEC.get("requires_env", {}).items():
    if not os.environ.get(var):
        fail(error)

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


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        answer = SPEC["http"]["paths"].get(self.path.split("?")[0])
        if answer is not None and answer.get("tail_metrics"):
            answer = {"text": tail_metrics()}
        if answer is not None and answer.get("when_arg") and answer["when_arg"] not in sys.argv[1:]:
            answer = None  # a route the real program adds only when started with this flag
        if answer is None:
            status, body, kind = 404, b"404 page not found\n", "text/plain"
        elif state["db"] not in ("connected", "not needed"):
            status, body, kind = 503, json.dumps({"database": state["db"]}).encode(), "application/json"
        elif "json" in answer:
            status, body, kind = answer.get("status", 200), json.dumps(answer["json"]).encode(), "application/json"
        else:
            status, body, kind = answer.get("status", 200), answer.get("text", "").encode(), "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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
for port in ports:
    srv = http.server.ThreadingHTTPServer(("", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
print(f"standin {SPEC['name']}: listening on {ports} {list(SPEC.get('tcp', {}))}", flush=True)
threading.Event().wait()
