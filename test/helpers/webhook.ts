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

export interface LocalWebhook {
  url: string;
  /** Each POSTed body, parsed as JSON, in arrival order. */
  bodies: Record<string, unknown>[];
  close: () => Promise<void>;
}

/**
 * A webhook receiver in the test's own process, on 127.0.0.1: a real HTTP
 * server the scheduled runner POSTs to. It answers `status` (204 unless
 * told), and calls onPost as each body arrives, so a test can look at the
 * world at that moment (has the log been written yet?).
 */
export async function localWebhookReceiver(opts: { status?: number; onPost?: (body: Record<string, unknown>) => void } = {}): Promise<LocalWebhook> {
  const { createServer } = await import('node:http');
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      bodies.push(body);
      opts.onPost?.(body);
      res.writeHead(opts.status ?? 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}
