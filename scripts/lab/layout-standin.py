# The entrypoint of the layouts' stand-in image (scripts/lab/layout-images.ts).
# The compose files and Quadlet units run the real images' commands; this
# program maps each to what stands in for it here:
#   postgres, redis-server, nginx   the real programs (Debian's packages)
#   minio, celery, gunicorn, otelcol, prometheus, loki, executor, (none)
#                                   an HTTP server on the real ports that
#                                   answers the real health path, 503 until
#                                   every TCP dependency in NEEDS (host:port,
#                                   ...) accepts a connection
# The single server's app reads HEALTH_MODE (ok, fail, slow) so the lab can
# ship a release whose health fails or answers too late, and VERSION so a
# test sees which slot answered.
import json, os, signal, socket, sys, threading, time, http.server

# PID 1 in its container: without a handler SIGTERM is ignored and every stop waits for the kill.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

ARGS = sys.argv[1:]
NAME = os.path.basename(ARGS[0]) if ARGS else "app"
if NAME == "postgres":
    os.execv("/usr/local/bin/pg-entrypoint.sh", ["pg-entrypoint.sh"])
if NAME in ("redis-server", "nginx"):
    os.execvp(ARGS[0], ARGS)

# name -> (ports, health paths), as the real programs listen and answer
ROLES = {
    "minio": ([9000, 9001], ["/minio/health/live", "/minio/health/ready"]),
    "celery": ([], []),
    "gunicorn": ([8000], ["/health", "/admin/"]),
    "otelcol": ([4317, 4318, 13133], ["/"]),
    "otelcol-contrib": ([4317, 4318, 13133], ["/"]),
    "prometheus": ([9090], ["/-/healthy", "/-/ready"]),
    "loki": ([3100], ["/ready"]),
    "executor": ([8080], ["/health"]),
    "app": ([int(p) for p in os.environ.get("PORT", "8080").split(",")], os.environ.get("HEALTH_PATHS", "/health").split(",")),
}
PORTS, HEALTH = ROLES.get(NAME, ROLES["app"])
NEEDS = [n for n in os.environ.get("NEEDS", "").split(",") if n]
MODE = os.environ.get("HEALTH_MODE", "ok")
VERSION = os.environ.get("VERSION", "standin")


def reachable(need):
    host, _, port = need.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        down = [n for n in NEEDS if not reachable(n)]
        if path in HEALTH:
            if MODE == "slow":
                time.sleep(1.5)
            ok = not down and MODE != "fail"
            status = 200 if ok else 503
            body = {"status": "ok" if ok else "unavailable", "unreachable": down, "version": VERSION}
        else:
            status, body = 200, {"role": NAME, "version": VERSION, "host": socket.gethostname()}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


print(f"stand-in {NAME} {VERSION}: ports {PORTS}, health {HEALTH}, needs {NEEDS}", flush=True)
servers = [http.server.ThreadingHTTPServer(("", p), Handler) for p in PORTS]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
if servers:
    servers[0].serve_forever()
# A worker without a port (celery): alive while its broker is, like the real one.
while True:
    for n in NEEDS:
        if not reachable(n):
            print(f"stand-in {NAME}: {n} unreachable", file=sys.stderr, flush=True)
    time.sleep(10)
