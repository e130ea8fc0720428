import { Command, sh } from '../../shell/command.ts';

/** One container of the project, as `docker compose ps --format json` lists it. */
export interface ComposeContainer {
  service: string;
  id: string;
  state: string;
  /** healthy, unhealthy, starting, or '' when the image has no health check. */
  health: string;
  /** com.docker.compose.config-hash: the service configuration it was created from. */
  configHash: string;
}

export interface ComposeState {
  /** Relative path -> sha256 of the file on the host (absent: not there). */
  sha256: Record<string, string>;
  /** Relative path -> text, for files whose content the op may show (not env files). */
  content: Record<string, string>;
  /** Service -> hash of its configuration rendered from the files on the host (`docker compose config --hash`). */
  configHash: Record<string, string>;
  containers: ComposeContainer[];
}

/**
 * One round trip: each file's checksum and (for the ones --diff may show)
 * its text, the configuration Compose renders from the files as they are,
 * and the project's containers. Quiet: env files hold secrets.
 */
export function composeProbe(dir: string, project: string, files: { path: string; read: boolean }[]): Command {
  const each = files.map(
    (f) => sh`echo ${`@@file ${f.path}`}; if [ -f ${f.path} ]; then sha256sum < ${f.path} | cut -c1-64; ${f.read ? sh`echo @@text; base64 -w0 < ${f.path}; echo` : sh`:`}; else echo absent; fi`,
  );
  return sh`if ! cd ${dir} 2>/dev/null; then echo @@nodir; exit 0; fi
${each.length ? Command.join(each, '\n') : sh`:`}
echo @@hash; docker compose -p ${project} config --hash '*' 2>/dev/null || true
echo @@ps; docker compose -p ${project} ps -a --format json 2>/dev/null || true`.quietly();
}

function labelOf(labels: string, key: string): string {
  for (const kv of labels.split(',')) if (kv.startsWith(`${key}=`)) return kv.slice(key.length + 1);
  return '';
}

/** `docker compose ps --format json`: one object per line (Compose >= 2.21) or one array (older v2). */
export function parseContainers(text: string): ComposeContainer[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let rows: Record<string, unknown>[];
  try {
    rows = trimmed.startsWith('[') ? JSON.parse(trimmed) : trimmed.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    throw new Error(`docker compose ps printed something that is not JSON: ${trimmed.slice(0, 200)}`);
  }
  return rows.map((r) => ({
    service: String(r.Service ?? ''),
    id: String(r.ID ?? ''),
    state: String(r.State ?? ''),
    health: String(r.Health ?? ''),
    configHash: labelOf(String(r.Labels ?? ''), 'com.docker.compose.config-hash'),
  }));
}

export function parseComposeState(stdout: string): ComposeState {
  const state: ComposeState = { sha256: {}, content: {}, configHash: {}, containers: [] };
  if (stdout.startsWith('@@nodir')) return state;
  const [filesPart = '', rest = ''] = stdout.split('@@hash\n');
  const [hashPart = '', psPart = ''] = rest.split('@@ps\n');
  for (const chunk of filesPart.split('@@file ').slice(1)) {
    const nl = chunk.indexOf('\n');
    const path = chunk.slice(0, nl);
    const [sha = '', text] = chunk.slice(nl + 1).split('@@text\n');
    if (sha.trim() === 'absent') continue;
    state.sha256[path] = sha.trim();
    if (text !== undefined) state.content[path] = Buffer.from(text.trim(), 'base64').toString('utf8');
  }
  for (const line of hashPart.split('\n')) {
    const [service, hash] = line.trim().split(/\s+/);
    if (service && hash) state.configHash[service] = hash;
  }
  state.containers = parseContainers(psPart);
  return state;
}

/** Services whose container is missing, stopped, unhealthy, or made from another configuration than the files render. */
export function staleServices(s: ComposeState): string[] {
  return Object.keys(s.configHash)
    .sort()
    .filter((svc) => {
      const cs = s.containers.filter((c) => c.service === svc);
      return cs.length === 0 || cs.some((c) => c.state !== 'running' || c.health === 'unhealthy' || c.configHash !== s.configHash[svc]);
    });
}
