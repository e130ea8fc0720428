// Pre-flight before a deployment: reachable nodes, Docker and Compose
// versions, the GPU where one is expected, the stacks' published ports free
// on every node that takes them, free disk space (on
// DSM its data volume's, not its small system partition's), the kernel's
// ESP and IPVS where the swarm settings need them, the model directory.
// Prints a pass/warn/fail table per host; exits non-zero when a check fails
// (warnings do not).
//   npx tsx playbooks/preflight.ts [-i inventory] [--limit PATTERN]
import semver from 'semver';
import { defineFact, defineOp, definePlay, facts, runPlaybook, sh, type Decision, type HostContext, z } from 'rigger-ops';
import type { OutcomeRow } from 'rigger-ops/lib/cli/main';
import { alignColumns } from 'rigger-ops/lib/shell/columns';
import { preflightVars } from '../roles/preflight.ts';
import { diskCheck } from '../roles/preflight-disk.ts';
import { kernelVerdict } from '../roles/kernel-needs.ts';
import { dsmSshdVerdict } from '../roles/dsm-sshd.ts';
import { listeners, portsCheck, publishingContainers } from '../roles/preflight-ports.ts';

type Level = 'pass' | 'warn' | 'fail';
interface Finding {
  level: Level;
  detail: string;
}

/** A check's verdict, computed from facts by the task; read-only, so it runs in check mode too. */
const verdict = defineOp({
  kind: 'preflight',
  schema: z.object({ level: z.enum(['pass', 'warn', 'fail']), detail: z.string() }).strict(),
  describe: (p) => p.detail,
  readOnly: true,
  decide: (p): Decision<Finding> => ({ kind: 'ok', result: p, msg: `${p.level}: ${p.detail}` }),
});

const composeVersion = defineFact('compose version', sh`docker compose version --short 2>/dev/null || docker-compose version --short 2>/dev/null || true`, (r) => r.stdout.toString('utf8').trim());
// Facts are cached by identity: one per path.
const modelDirs = new Map<string, ReturnType<typeof defineFact<string>>>();
const modelDir = (path: string) => {
  if (!modelDirs.has(path)) modelDirs.set(path, defineFact(`model dir ${path}`, sh`if [ -d ${path} ]; then echo "$(ls -A ${path} | wc -l)"; else echo missing; fi`, (r) => r.stdout.toString('utf8').trim()));
  return modelDirs.get(path)!;
};

const schema = preflightVars;
type H = HostContext<z.output<typeof schema>>;

const checks: Record<string, (h: H) => Finding> = {
  docker: (h) => {
    const d = h.fact(facts.dockerInfo);
    if (!d.installed) return { level: 'warn', detail: 'not installed (the docker role installs it)' };
    if (!d.running) return { level: 'fail', detail: 'installed but the engine does not answer' };
    const v = semver.coerce(d.serverVersion);
    if (v && semver.lt(v, h.vars.preflight_min_docker)) return { level: 'fail', detail: `${d.serverVersion} is older than ${h.vars.preflight_min_docker}` };
    return { level: 'pass', detail: d.serverVersion };
  },
  compose: (h) => {
    const v = h.fact(composeVersion);
    return v ? { level: 'pass', detail: v } : { level: 'warn', detail: 'no docker compose (stacks do not need it)' };
  },
  gpu: (h) => {
    const g = h.fact(facts.gpu);
    const expected = h.vars.nvidia_gpu === true;
    if (expected && !g.present) return { level: 'fail', detail: 'expected (nvidia_gpu) but not seen' };
    if (g.present) return { level: g.source === 'nvidia-smi' ? 'pass' : 'warn', detail: `${g.devices[0] ?? 'GPU'}${g.driverVersion ? `, driver ${g.driverVersion}` : ', no driver loaded'}` };
    return { level: 'pass', detail: 'none expected, none seen' };
  },
  // Every port the stacks publish, on each node that takes it (ingress: all; host mode: the placement's), against its listeners.
  ports: portsCheck,
  // / on Debian and Ubuntu, the data volume on DSM (roles/preflight-disk.ts says why).
  disk: diskCheck,
  dsm: (h) => {
    const d = h.fact(facts.dsm);
    if (!d.present) return { level: 'pass', detail: 'not DSM' };
    // What rigger cannot set on DSM (no apt; DSM's own settings), checked as the host shows it.
    const docker = h.fact(facts.dockerInfo);
    const sshd = dsmSshdVerdict(h);
    const missing = [docker.running ? '' : 'Container Manager (Package Center): installed and running', sshd.level === 'fail' ? `SSH port ${h.vars.sshd_port ?? 22} (Control Panel > Terminal & SNMP > Terminal)` : ''];
    if (h.vars.nfs_export_path) {
      const side = h.fact(facts.dsmSide(h.vars.nfs_export_path));
      missing.push(
        side.share ? '' : `shared folder ${h.vars.nfs_export_path} (Control Panel > Shared Folder)`,
        side.nfsd ? '' : 'NFS service (Control Panel > File Services > NFS)',
        side.exported ? '' : `NFS permission on ${h.vars.nfs_export_path} (Shared Folder > Edit > NFS Permissions)`,
      );
    }
    const todo = missing.filter(Boolean);
    return todo.length ? { level: 'fail', detail: `DSM ${d.version}: set in DSM: ${todo.join('; ')}` } : { level: 'pass', detail: `DSM ${d.version}: Container Manager answers${h.vars.nfs_export_path ? `, ${h.vars.nfs_export_path} shared and exported, NFS running` : ''}` };
  },
  models: (h) => {
    if (!h.vars.model_dir) return { level: 'pass', detail: 'no model_dir here' };
    const n = h.fact(modelDir(h.vars.model_dir));
    if (n === 'missing') return { level: 'fail', detail: `${h.vars.model_dir} is missing` };
    return { level: n === '0' ? 'warn' : 'pass', detail: `${h.vars.model_dir}: ${n} entries` };
  },
  // ESP for encrypted overlays, IPVS for virtual IPs and the ingress mesh: a kernel without them takes the settings and drops the traffic.
  kernel: (h) => kernelVerdict(h),
};

/** Fails naming each failed check; a check that threw (a fact that could not be read) counts as failed. */
function overall(h: H): Finding {
  const failed = Object.entries(checks).flatMap(([name, check]) => {
    try {
      return check(h).level === 'fail' ? [name] : [];
    } catch {
      return [name];
    }
  });
  return failed.length ? { level: 'fail', detail: `failed: ${failed.join(', ')}` } : { level: 'pass', detail: 'no check failed' };
}

function table(rows: OutcomeRow[]): string {
  const hosts = [...new Set(rows.map((r) => r.host))];
  const names = Object.keys(checks);
  const cell = (host: string, name: string) => {
    const row = rows.find((r) => r.host === host && r.task.name === name);
    if (!row) return 'unreachable';
    const f = row.outcome.result as Finding | undefined;
    return f ? `${f.level.toUpperCase()} ${f.detail}` : `FAIL ${row.outcome.msg ?? row.outcome.status}`;
  };
  return alignColumns([['host', ...names], ...hosts.map((h) => [h, ...names.map((n) => cell(h, n))])]);
}

await runPlaybook(
  [
    definePlay({
      name: 'preflight',
      hosts: 'all',
      schema,
      facts: [facts.dockerInfo, facts.gpu, composeVersion, listeners, publishingContainers, facts.dsm, facts.freeDisk('/'), facts.kernelFeatures],
      // Every check runs, a failed one included, so the table shows each; the last task fails the host when any did.
      tasks: ({ task }) => [
        ...Object.entries(checks).map(([name, check]) => task({ name, op: (h) => verdict(check(h)), failedWhen: (f) => f.level === 'fail', ignoreErrors: true })),
        task({ name: 'every check passes', op: (h) => verdict(overall(h)), failedWhen: (f) => f.level === 'fail' }),
      ],
    }),
  ],
  { report: table },
);
