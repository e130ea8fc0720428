// Side-by-side benchmark: rigger, tuned Ansible, Ansible with Mitogen, and a
// bare ssh2 floor, on the same hosts in one invocation.
//   npx tsx scripts/bench.ts [--quick] [--runs N] [--only H:T,H:T] [--tools floor,rigger,ansible,mitogen]
//                            [--skip tool:scenario,...] [--write FILE]
// --skip leaves out single figures (ansible:cold) to complete a stopped run
// without repeating its longest figures.
// Every figure is also appended to .bench/figures.jsonl as it is measured,
// so a long run that is stopped keeps what it measured.
// Needs the lab (npx tsx scripts/lab.ts up) and ansible-core (apt).
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { aptInstall } from './lab/apt.ts';
import { LAB_KEY, LAB_KNOWN_HOSTS, NODES } from './lab/config.ts';
import { redrawAfterRun, type ChartFigure } from './bench/charts.ts';
import { removeLightHosts, startLightHosts, writeKnownHosts } from './bench/light-hosts.ts';
import { median, prepare, runTool, SCENARIOS, TOOLS, type BenchEnv, type RunResult, type Scenario, type Target, type Tool } from './bench/tools.ts';
import { BENCH_ROOT, TREE_HASH } from './bench/workload.ts';
import { measureStart, startTable } from './bench/start-time.ts';
import { ansibleCause, checkPeers, mitogenStrategyDir, PeerError } from './bench/peers.ts';

$.verbose = false;
// zx runs commands through bash with stdio on sockets, which bash takes for an
// sshd session: below SHLVL 2 it sources ~/.bashrc (pyenv init here, whose
// rehash lock stalled 64 parallel `docker exec` calls between runs).
process.env.SHLVL = '1';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, runs: { type: 'string' }, write: { type: 'string' }, only: { type: 'string' }, tools: { type: 'string' }, skip: { type: 'string' } } });
const quick = values.quick ?? false;
const runs = Number(values.runs ?? (quick ? 3 : 5));
const FULL = [
  { hosts: 1, tasks: 20 },
  { hosts: 4, tasks: 20 },
  { hosts: 16, tasks: 20 },
  { hosts: 64, tasks: 20 },
  { hosts: 4, tasks: 10 },
  { hosts: 4, tasks: 50 },
];
const only = values.only?.split(',').map((c) => {
  const [hosts, tasks] = c.split(':').map(Number);
  if (!hosts || !tasks) throw new Error(`--only takes H:T pairs like 64:20, got ${c}`);
  return { hosts, tasks };
});
const skip = new Set(values.skip?.split(',') ?? []);
for (const s of skip) {
  const [tool, scenario, ...extra] = s.split(':');
  if (extra.length || !TOOLS.some((t) => t === tool) || !SCENARIOS.some((c) => c === scenario)) throw new Error(`--skip takes tool:scenario pairs like ansible:cold, got ${s}`);
}
// Quick mode: the one-host figures (rigger against the floor at T = 10 and 20) and H = 4.
const configs: { hosts: number; tasks: number }[] = only ?? (quick ? [{ hosts: 1, tasks: 10 }, { hosts: 1, tasks: 20 }, { hosts: 4, tasks: 20 }] : FULL);

/** A chart's figure (charts.ts) with the spread and what was discarded. */
interface Figure extends ChartFigure {
  min?: number;
  max?: number;
  valid: number;
  discarded: string[];
  skipped?: string;
}

const say = (s: string) => process.stderr.write(s + '\n');

async function onTargets(targets: Target[], script: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(targets.map(async (t) => out.set(t.name, (await $`docker exec ${t.container} sh -c ${script}`).stdout.trim())));
  return out;
}

const wipe = (targets: Target[]) => onTargets(targets, `rm -rf ${BENCH_ROOT}`);
const treeHashes = (targets: Target[]) => onTargets(targets, TREE_HASH);

async function targetsFor(hosts: number, dir: string): Promise<Target[]> {
  if (hosts <= NODES.length) return NODES.slice(0, hosts).map((n) => ({ name: n.name, ip: n.ip, container: n.container }));
  const { hosts: light, knownHosts } = await startLightHosts(hosts);
  writeKnownHosts(path.join(dir, 'known_hosts'), knownHosts, LAB_KNOWN_HOSTS);
  return light.map((h) => ({ name: h.name, ip: h.ip, container: h.container }));
}

async function measure(env: BenchEnv, tasks: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  let reference: Map<string, string> | undefined;
  const tools = (values.tools?.split(',') ?? TOOLS) as Tool[];
  for (const tool of tools) {
    for (const scenario of SCENARIOS) {
      if (skip.has(`${tool}:${scenario}`)) continue;
      const fig: Figure = { tool, scenario, hosts: env.targets.length, tasks, valid: 0, discarded: [] };
      figures.push(fig);
      const times: number[] = [];
      // One warm-up run, then the measured ones.
      for (let i = 0; i <= runs; i++) {
        if (scenario === 'cold') await wipe(env.targets);
        else if (i === 0) {
          // A no-op run starts from a converged tree left by this tool.
          await wipe(env.targets);
          await runTool(tool, 'cold', env, tasks);
        }
        const r: RunResult = await runTool(tool, scenario, env, tasks);
        if (r.error) {
          // A peer that fails its warm-up is broken, not unlucky: stop, naming it.
          if (i === 0 && (tool === 'ansible' || tool === 'mitogen')) throw new PeerError(tool, ansibleCause(r.error));
          fig.discarded.push(`run ${i}: ${r.error.slice(0, 200)}`);
          continue;
        }
        const hashes = await treeHashes(env.targets);
        reference ??= hashes;
        const differs = [...hashes].filter(([h, v]) => reference!.get(h) !== v).map(([h]) => h);
        if (differs.length) {
          fig.discarded.push(`run ${i}: file tree differs from the other tools on ${differs.join(', ')}`);
          continue;
        }
        if (scenario === 'noop' && r.changed !== undefined && r.changed !== 0) {
          fig.discarded.push(`run ${i}: a no-op run reported changed=${r.changed}`);
          continue;
        }
        if (i === 0) continue;
        times.push(r.seconds);
      }
      if (times.length) Object.assign(fig, { median: median(times), min: Math.min(...times), max: Math.max(...times), valid: times.length });
      appendFileSync(path.join(path.dirname(env.dir), 'figures.jsonl'), JSON.stringify(fig) + '\n');
      say(`  ${tool.padEnd(7)} ${scenario.padEnd(4)} H=${env.targets.length} T=${tasks}: ${fig.median?.toFixed(2) ?? '-'} s (${fig.valid} valid${fig.discarded.length ? `, ${fig.discarded.length} discarded` : ''}${fig.skipped ? `, skipped` : ''})`);
    }
  }
  return figures;
}

function fmt(f: Figure | undefined): string {
  if (!f) return '-';
  if (f.skipped) return 'not run';
  if (f.median === undefined) return 'no valid run';
  return `${f.median.toFixed(2)} (${f.min!.toFixed(2)}-${f.max!.toFixed(2)})`;
}

function ratio(a: Figure | undefined, b: Figure | undefined): string {
  if (!a?.median || !b?.median) return '-';
  return `${(a.median / b.median).toFixed(1)}x`;
}

function table(all: Figure[]): string {
  const rows = ['| scenario | H | T | floor s | rigger s | ansible s | mitogen s | ansible / rigger | mitogen / rigger | rigger / floor |', '|---|---|---|---|---|---|---|---|---|---|'];
  const keys = [...new Set(all.map((f) => `${f.scenario}|${f.hosts}|${f.tasks}`))];
  for (const k of keys) {
    const [scenario, hosts, tasks] = k.split('|');
    const get = (tool: Tool) => all.find((f) => f.tool === tool && `${f.scenario}|${f.hosts}|${f.tasks}` === k);
    rows.push(`| ${scenario} | ${hosts} | ${tasks} | ${fmt(get('floor'))} | ${fmt(get('rigger'))} | ${fmt(get('ansible'))} | ${fmt(get('mitogen'))} | ${ratio(get('ansible'), get('rigger'))} | ${ratio(get('mitogen'), get('rigger'))} | ${ratio(get('rigger'), get('floor'))} |`);
  }
  return rows.join('\n');
}

/** Seconds added per host from H = 4 to H = 64 at T = 20, in ms. */
function perHostCost(all: Figure[], tool: Tool, scenario: Scenario): number | undefined {
  const at = (h: number) => all.find((f) => f.tool === tool && f.scenario === scenario && f.tasks === 20 && f.hosts === h)?.median;
  const a = at(4);
  const b = at(64);
  return a !== undefined && b !== undefined ? ((b - a) / 60) * 1000 : undefined;
}

function perHostLine(all: Figure[], scenario: Scenario): string {
  const cost = (tool: Tool) => perHostCost(all, tool, scenario);
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} ms`);
  const r = cost('rigger');
  const f = cost('floor');
  const vsFloor = r !== undefined && f !== undefined && f > 0 ? ` (rigger / floor ${(r / f).toFixed(1)}x)` : '';
  return `- ${scenario}: rigger ${ms(r)}, floor ${ms(f)}, ansible ${ms(cost('ansible'))}, mitogen ${ms(cost('mitogen'))}${vsFloor}`;
}

function machine(): string {
  const v = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      return 'unknown';
    }
  };
  return [
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- kernel ${v('uname', ['-r'])}, ${v('sh', ['-c', '. /etc/os-release; echo $PRETTY_NAME'])}`,
    `- Node ${process.version}; ${v('ansible-playbook', ['--version'])}; Docker ${v('docker', ['version', '--format', '{{.Server.Version}}'])}`,
    `- hosts: the lab's nodes (H <= 4) and sshd-only containers from the same image (H = 16, 64), all on one Docker bridge on this machine`,
  ].join('\n');
}

/** Debian's Ansible (and Mitogen) on a fresh machine; the lab must be up. */
async function ensurePeers(): Promise<void> {
  // ansible-core alone (as the tests install it) lacks the json callback, which is in the full package's ansible.posix.
  if ((await $`command -v ansible-playbook && test -d /usr/lib/python3/dist-packages/ansible_mitogen && test -d /usr/lib/python3/dist-packages/ansible_collections/ansible/posix`.nothrow().quiet()).exitCode !== 0) {
    say('installing ansible (with its collections: the json callback) and ansible-mitogen from Debian');
    await aptInstall(['ansible', 'ansible-mitogen']);
  }
  if ((await $`docker inspect -f '{{.State.Running}}' ${NODES[0]!.container}`.nothrow()).stdout.trim() !== 'true') {
    throw new Error('the lab is not up: npx tsx scripts/lab.ts up');
  }
}

await ensurePeers();
const selectedTools = (values.tools?.split(',') ?? TOOLS) as Tool[];
let mitogenStrategies = '';
let peersChecked = false;
try {
  if (selectedTools.includes('mitogen')) mitogenStrategies = mitogenStrategyDir();
} catch (err) {
  if (!(err instanceof PeerError)) throw err;
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
}
const dir = path.resolve('.bench');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
// rigger and the floor run through the compiled command, as an installed package does.
execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
const START_RUNS = 10;
say('start-up: node, rigger, tsx, ansible-playbook --list-hosts');
const start = await measureStart(dir, NODES, START_RUNS);
const all: Figure[] = [];
const started = Date.now();
// A stopped run must not leave 64 sshd containers behind (they carry the lab
// image's labels, so `lab.ts down` would trip over them).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: removing the light hosts`);
    void removeLightHosts().finally(() => process.exit(130));
  });
}
try {
  for (const c of configs) {
    const cfgDir = path.join(dir, `h${c.hosts}-t${c.tasks}`);
    mkdirSync(cfgDir, { recursive: true });
    say(`H=${c.hosts} T=${c.tasks}`);
    const targets = await targetsFor(c.hosts, cfgDir);
    const env: BenchEnv = { dir: cfgDir, key: LAB_KEY, knownHosts: c.hosts <= NODES.length ? LAB_KNOWN_HOSTS : path.join(cfgDir, 'known_hosts'), targets, mitogenStrategies };
    prepare(env, c.tasks);
    if (!peersChecked) {
      checkPeers(selectedTools, cfgDir, path.join(cfgDir, 'ansible.yml'), (tool) => path.join(cfgDir, tool === 'mitogen' ? 'mitogen.cfg' : 'ansible.cfg'));
      peersChecked = true;
    }
    all.push(...(await measure(env, c.tasks)));
    await wipe(targets);
  }
} catch (err) {
  if (!(err instanceof PeerError)) throw err;
  await removeLightHosts();
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
} finally {
  await removeLightHosts();
}

const minutes = ((Date.now() - started) / 60000).toFixed(1);
const command = `npx tsx scripts/bench.ts${quick ? ' --quick' : ''}${values.runs ? ` --runs ${runs}` : ''}${values.only ? ` --only ${values.only}` : ''}${values.tools ? ` --tools ${values.tools}` : ''}${values.skip ? ` --skip ${values.skip}` : ''}`;
const discarded = all.flatMap((f) => f.discarded.map((d) => `- ${f.tool} ${f.scenario} H=${f.hosts} T=${f.tasks}: ${d}`));
const report = [
  startTable(start, START_RUNS),
  '',
  `Seconds per run, median of ${runs} runs after one warm-up (min-max in brackets); ratios of medians.`,
  '',
  table(all),
  '',
  'Cost per added host (T=20, from H=4 to H=64, median seconds):',
  perHostLine(all, 'cold'),
  perHostLine(all, 'noop'),
  values.tools ? `\nPeers measured: ${values.tools} (chosen with --tools).` : '',
  discarded.length ? `\nDiscarded runs (validity checks):\n${discarded.join('\n')}` : '\nNo run was discarded by the validity checks.',
  '',
  `Machine:\n${machine()}`,
  '',
  `Produced by \`${command}\` in ${minutes} min.`,
].join('\n');
process.stdout.write(report + '\n');
if (values.write) writeFileSync(values.write, report + '\n');
say(`charts redrawn: ${redrawAfterRun(all, command).join(', ')}`);
