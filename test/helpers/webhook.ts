/**
 * The shell command that starts a webhook receiver on a lab node's loopback:
 * a small HTTP server under systemd (so it outlives the command) appending
 * each POSTed body as a line to LOG. Stop it with `systemctl stop rigger-hook`.
 */
export function webhookReceiverCommand(port = 9099, log = '/tmp/hook.log'): string {
  return `systemctl stop rigger-hook 2>/dev/null; rm -f ${log}; systemd-run --unit rigger-hook python3 -c 'import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open("${log}", "ab").write(body + b"\\n")
        self.send_response(204); self.end_headers()
http.server.HTTPServer(("127.0.0.1", ${port}), H).serve_forever()'`;
}
