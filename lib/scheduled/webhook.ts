import http from 'node:http';
import https from 'node:https';

/** At most this long per POST: a webhook that never answers must not hold the run's report. */
export const SEND_TIMEOUT_MS = 15_000;

/** POSTs a JSON body; the URL (read from a 0600 file) is never printed. */
export function postJson(url: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? https : http).request(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length }, timeout: SEND_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`the webhook answered ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${SEND_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(data);
  });
}
