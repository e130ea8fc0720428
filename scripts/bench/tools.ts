import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ANSIBLE_TEMPLATE, ansiblePlaybook } from './workload.ts';

/** Every tool, in the order a run measures them; the floor first sets the reference file tree. */
export const TOOLS = ['floor', 'rigger', 'ansible', 'mitogen'] as const;
/** The `rigger` command as the package installs it (bin), from dist/. */
export const RIGGER = 'dist/cli/rigger.js';
export const SCENARIOS = ['cold', 'noop'] as const;
export type Tool = (typeof TOOLS)[number];
export type Scenario = (typeof SCENARIOS)[number];

export interface Target {
  name: string;
  ip: string;
  container: string;
}

export interface BenchEnv {
  dir: string;
  key: string;
  knownHosts: string;
  targets: Target[];
  /** Mitogen's strategy plugin directory, as ansible-playbook's Python finds it (peers.ts). */
  mitogenStrategies: string;
}

export interface RunResult {
  seconds: number;
  /** Tasks reported changed (undefined for the floor, which has no notion of it). */
  changed?: number;
  error?: string;
}

/** The middle of the measured times (the mean of the two middle ones for an even count); xs is left as it was. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export function timed(cmd: string, args: string[], env: Record<string, string>): Promise<{ seconds: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ seconds: (performance.now() - started) / 1000, code, stdout, stderr }));
  });
}

/** Writes the inventories and Ansible configuration for these targets. */
export function prepare(env: BenchEnv, tasks: number): void {
  mkdirSync(env.dir, { recursive: true });
  const rigger = ['all:', '  vars:', '    ansible_user: root', `    ansible_ssh_private_key_file: ${env.key}`, `    rigger_known_hosts_file: ${env.knownHosts}`, '  hosts:'];
  for (const t of env.targets) rigger.push(`    ${t.name}:`, `      ansible_host: ${t.ip}`);
  writeFileSync(path.join(env.dir, 'rigger.yml'), rigger.join('\n') + '\n');
  const ansible = [
    'all:',
    '  vars:',
    '    ansible_user: root',
    `    ansible_ssh_private_key_file: ${env.key}`,
    '    ansible_python_interpreter: /usr/bin/python3',
    `    ansible_ssh_common_args: "-o UserKnownHostsFile=${env.knownHosts} -o StrictHostKeyChecking=yes"`,
    '  hosts:',
  ];
  for (const t of env.targets) ansible.push(`    ${t.name}:`, `      ansible_host: ${t.ip}`);
  writeFileSync(path.join(env.dir, 'ansible.yml'), ansible.join('\n') + '\n');
  writeFileSync(path.join(env.dir, 'bench.j2'), ANSIBLE_TEMPLATE);
  writeFileSync(path.join(env.dir, 'playbook.yml'), ansiblePlaybook(tasks, path.join(env.dir, 'bench.j2')));
  // Tuned as ANSIBLE docs advise for speed: pipelining, ControlPersist, forks = hosts, no facts.
  const cfg = (strategy: string) =>
    [
      '[defaults]',
      `forks = ${Math.max(env.targets.length, 5)}`,
      'gathering = explicit',
      'host_key_checking = True',
      'retry_files_enabled = False',
      'deprecation_warnings = False',
      'stdout_callback = json',
      strategy,
      '[ssh_connection]',
      'pipelining = True',
      `control_path_dir = ${path.join(env.dir, 'cp')}`,
      'ssh_args = -o ControlMaster=auto -o ControlPersist=300s -o PreferredAuthentications=publickey',
      '',
    ].join('\n');
  writeFileSync(path.join(env.dir, 'ansible.cfg'), cfg(''));
  writeFileSync(
    path.join(env.dir, 'mitogen.cfg'),
    cfg(`strategy_plugins = ${env.mitogenStrategies}\nstrategy = mitogen_linear`),
  );
}

export async function runTool(tool: Tool, scenario: Scenario, env: BenchEnv, tasks: number): Promise<RunResult> {
  // Both run through the compiled `rigger` command (bench.ts builds dist/ first), as a
  // user's playbook runs: the same TypeScript loading cost for the floor and for rigger.
  if (tool === 'floor') {
    const r = await timed(process.execPath, [RIGGER, 'scripts/bench/floor.ts', scenario, String(tasks), env.key, env.knownHosts, ...env.targets.map((t) => `${t.name}=${t.ip}`)], {});
    return r.code === 0 ? { seconds: r.seconds } : { seconds: r.seconds, error: r.stderr.slice(-400) };
  }
  if (tool === 'rigger') {
    const r = await timed(process.execPath, [RIGGER, 'scripts/bench/workload-playbook.ts', '-i', path.join(env.dir, 'rigger.yml'), '--json', '--forks', String(env.targets.length)], { BENCH_TASKS: String(tasks) });
    const recap = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { hosts?: Record<string, { changed: number }> };
    if (r.code !== 0 || !recap.hosts) return { seconds: r.seconds, error: `exit ${r.code}: ${r.stdout.slice(-300)}${r.stderr.slice(-300)}` };
    return { seconds: r.seconds, changed: Object.values(recap.hosts).reduce((a, h) => a + h.changed, 0) };
  }
  const r = await timed('ansible-playbook', ['-i', path.join(env.dir, 'ansible.yml'), path.join(env.dir, 'playbook.yml')], {
    ANSIBLE_CONFIG: path.join(env.dir, tool === 'mitogen' ? 'mitogen.cfg' : 'ansible.cfg'),
  });
  try {
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { stats: Record<string, { changed: number; failures: number; unreachable: number }> };
    const stats = Object.values(json.stats);
    if (r.code !== 0 || stats.some((s) => s.failures || s.unreachable)) return { seconds: r.seconds, error: `exit ${r.code}` };
    return { seconds: r.seconds, changed: stats.reduce((a, s) => a + s.changed, 0) };
  } catch {
    return { seconds: r.seconds, error: `exit ${r.code}: ${(r.stdout + r.stderr).slice(-400)}` };
  }
}
