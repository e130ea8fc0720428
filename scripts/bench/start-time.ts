// Start-up cost, measured in the same benchmark run as the H = 1 figures:
// a bare `node -e 0`, `rigger PLAYBOOK.ts --list-hosts` (the compiled command
// on a playbook that imports the package by name), the same playbook through
// `npx tsx` as the repository runs it for development, and `ansible-playbook
// --list-hosts` on the same hosts. --list-hosts reads the inventory and
// builds the plan, then stops before any connection: what is left is the
// start. Targets (issue 20): rigger within 4x node, faster than Ansible.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { median, timed } from './tools.ts';

export interface StartFigure {
  what: string;
  median: number;
  min: number;
  max: number;
}

/** Medians of `runs` runs after one warm-up, the commands interleaved so load affects each alike. */
export async function measureStart(dir: string, hosts: { name: string; ip: string }[], runs: number): Promise<StartFigure[]> {
  mkdirSync(dir, { recursive: true });
  const inventory = path.join(dir, 'start-hosts.yml');
  writeFileSync(inventory, ['all:', '  hosts:', ...hosts.flatMap((h) => [`    ${h.name}:`, `      ansible_host: ${h.ip}`])].join('\n') + '\n');
  const playbook = path.join(dir, 'start-ping.yml');
  writeFileSync(playbook, '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n');
  const commands: { what: string; cmd: string; args: string[] }[] = [
    { what: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
    { what: 'rigger playbooks/ping.ts --list-hosts', cmd: process.execPath, args: ['dist/cli/rigger.js', 'playbooks/ping.ts', '-i', inventory, '--list-hosts'] },
    { what: 'npx tsx playbooks/ping.ts --list-hosts', cmd: 'npx', args: ['tsx', 'playbooks/ping.ts', '-i', inventory, '--list-hosts'] },
    { what: 'ansible-playbook --list-hosts', cmd: 'ansible-playbook', args: ['-i', inventory, playbook, '--list-hosts'] },
  ];
  const times = new Map<string, number[]>(commands.map((c) => [c.what, []]));
  for (let i = 0; i <= runs; i++) {
    for (const c of commands) {
      const r = await timed(c.cmd, c.args, { ANSIBLE_DEPRECATION_WARNINGS: 'False' });
      if (r.code !== 0) throw new Error(`${c.what} failed (exit ${r.code}): ${r.stderr.slice(-300)}`);
      if (i > 0) times.get(c.what)!.push(r.seconds);
    }
  }
  return commands.map(({ what }) => {
    const t = times.get(what)!;
    return { what, median: median(t), min: Math.min(...t), max: Math.max(...t) };
  });
}

/** The start-time table and its two ratios, for the report. */
export function startTable(figures: StartFigure[], runs: number): string {
  const get = (prefix: string) => figures.find((f) => f.what.startsWith(prefix))!;
  const node = get('node');
  const rigger = get('rigger');
  const ansible = get('ansible');
  return [
    `Start-up (median of ${runs} runs after one warm-up, seconds, min-max in brackets):`,
    '',
    '| command | s | / node -e 0 |',
    '|---|---|---|',
    ...figures.map((f) => `| \`${f.what}\` | ${f.median.toFixed(3)} (${f.min.toFixed(3)}-${f.max.toFixed(3)}) | ${(f.median / node.median).toFixed(1)}x |`),
    '',
    `rigger --list-hosts / node -e 0: ${(rigger.median / node.median).toFixed(1)}x (target: within 4x); rigger / ansible-playbook --list-hosts: ${(rigger.median / ansible.median).toFixed(2)}x (target: below 1).`,
  ].join('\n');
}
