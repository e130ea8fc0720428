import { raw, sh } from '../../lib/shell/command.ts';
import { BACKUP_MOUNT, NODE_BACKUP_MOUNT, OFFSITE_MOUNT } from '../../scripts/lab/config.ts';
import { convergedLab } from './lab.ts';
import { onNode } from './node.ts';

/** Where the lab's nodes keep backup sets (the data node's disk, the other nodes' own), and the off-site copy's root. */
const BACKUP_ROOTS = [BACKUP_MOUNT, NODE_BACKUP_MOUNT];
const OFFSITE_ROOT = `${OFFSITE_MOUNT}/rigger`;

/** The lab database's container on the data node, for `${PG} psql ...` in a node script. */
export const PG = 'docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=lab_postgres --filter status=running | head -n1)';

/** Scripts of a test's own on lab nodes: `node` returns the result, `data` throws on failure, `psql` runs SQL in the lab database. */
export function labShell(inventory: () => string) {
  const node = async (host: string, script: string) => onNode(inventory(), host, sh`${raw(script)}`);
  const data = async (script: string) => {
    const r = await node('data', script);
    if (r.code !== 0) throw new Error(`data: ${script}\n${r.stderr}`);
    return r.stdout;
  };
  const psql = (sql: string, db = 'vibedb') => data(`${PG} psql -v ON_ERROR_STOP=1 -U postgres -d ${db} -tAc ${JSON.stringify(sql).replace(/\$/g, '\\$')}`);
  return { node, data, psql };
}

/** One line of a playbook's --json output. */
export interface JsonEvent {
  type: string;
  task?: string;
  host?: string;
  status?: string;
  msg?: string;
  text?: string;
  play?: string;
  hosts?: Record<string, { changed: number; failed: number }>;
}

export const jsonEvents = (stdout: string): JsonEvent[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as JsonEvent);
/** The text of the playbook's report (printed before the recap with --json). */
export const reportText = (stdout: string) => jsonEvents(stdout).find((e) => e.type === 'report')?.text ?? '';

/** Polls until a condition holds on the lab (a service up, a lock taken); never a fixed sleep. */
export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * A webhook receiver on a lab node's loopback (python3's http.server under
 * systemd-run, so it outlives the command that starts it): each POST's body
 * is one line of `log`. Reachable by what runs on that node, as a timer's job.
 */
export async function startHookReceiver(node: (host: string, script: string) => Promise<{ code: number | null }>, host: string, port: number, log: string): Promise<void> {
  await node(host, `systemctl stop rigger-hook 2>/dev/null; rm -f ${log}; systemd-run --unit rigger-hook python3 -c 'import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open("${log}", "ab").write(body + b"\\n")
        self.send_response(204); self.end_headers()
http.server.HTTPServer(("127.0.0.1", ${port}), H).serve_forever()'`);
  await waitFor('the webhook receiver', async () => (await node(host, `curl -s -o /dev/null http://127.0.0.1:${port}/`)).code === 0);
}

/**
 * The lab as `reset --all` and a cold site.ts leave it, for the suites that
 * bring data of their own (backup, recovery), without paying a cold converge
 * (about 80 s) when the suite before left the lab converged: the lab is
 * converged (reused, or reset and converged: convergedLab), then what earlier
 * suites wrote is emptied: every node's backup disk, the off-site copy, the
 * lab database's tables (and the backup suite's scratch database) and the
 * files volume. What the suite then writes is all the lab holds.
 */
export async function convergedLabWithoutData(inventory: string): Promise<void> {
  await convergedLab(inventory);
  const { node, data, psql } = labShell(() => inventory);
  for (const host of ['gateway', 'ai', 'data', 'cicd']) {
    const r = await node(host, `for d in ${BACKUP_ROOTS.join(' ')}; do if [ -d "$d" ]; then find "$d" -mindepth 1 -delete || exit 1; fi; done`);
    if (r.code !== 0) throw new Error(`emptying the backup disks on ${host}: ${r.stderr}`);
  }
  await data(`rm -rf ${OFFSITE_ROOT} && mp="$(docker volume inspect -f '{{.Mountpoint}}' lab_files_data)" && find "$mp" -mindepth 1 -delete`);
  await waitFor('lab_postgres to accept connections', async () => (await node('data', `${PG} pg_isready -q -h 127.0.0.1`)).code === 0);
  await psql('DROP DATABASE IF EXISTS scratch', 'postgres');
  await psql("DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY c.relkind = 'S' LOOP EXECUTE format('DROP %s IF EXISTS public.%I CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.relname); END LOOP; END $$");
}
