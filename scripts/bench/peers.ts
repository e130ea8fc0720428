// The benchmark's peers (tuned Ansible, Ansible with Mitogen) checked before
// anything is measured: a peer that cannot run stops the benchmark with its
// name and the cause, instead of dropping out of the table.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Tool } from './tools.ts';

export class PeerError extends Error {
  constructor(
    readonly peer: Tool,
    cause: string,
  ) {
    super(`peer ${peer} cannot run: ${cause}\n(fix it, or leave the peer out on purpose with --tools, which the report then shows)`);
  }
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The Python interpreter ansible-playbook runs on: its shebang (Mitogen must be importable there). */
export function ansiblePython(): string {
  const bin = which('ansible-playbook');
  if (!bin) throw new PeerError('ansible', 'ansible-playbook is not on PATH');
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m) throw new PeerError('ansible', `${bin} has no #! line naming its Python`);
  // "#!/usr/bin/env python3" names the interpreter in its argument.
  return path.basename(m[1]!) === 'env' && m[2] ? (which(m[2]) ?? m[2]) : m[1]!;
}

/**
 * Mitogen's strategy plugins, found where ansible-playbook's own Python
 * imports ansible_mitogen from (Debian's dist-packages, a virtualenv, ...),
 * not at a fixed path.
 */
export function mitogenStrategyDir(python = ansiblePython()): string {
  const r = spawnSync(python, ['-c', 'import os, ansible_mitogen; print(os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy"))'], { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').at(-1);
    throw new PeerError('mitogen', `ansible_mitogen is not importable by ansible-playbook's Python (${python}): ${why}`);
  }
  return r.stdout.trim();
}

/** The first line that says what went wrong, from ansible-playbook's output. */
export function ansibleCause(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^(ERROR|fatal|\[ERROR\])|Invalid|error/i.test(l)) ?? lines.at(-1) ?? 'no output';
}

/**
 * One trivial play per peer against one host, with the peer's own
 * configuration: proves the strategy loads and the host answers.
 */
export function checkPeers(peers: Tool[], dir: string, inventory: string, configFor: (tool: Tool) => string): void {
  const playbook = path.join(dir, 'peer-check.yml');
  writeFileSync(playbook, '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: "true"\n      changed_when: false\n');
  for (const peer of peers) {
    if (peer !== 'ansible' && peer !== 'mitogen') continue;
    try {
      execFileSync('ansible-playbook', ['-i', inventory, '--limit', 'all[0]', playbook], { env: { ...process.env, ANSIBLE_CONFIG: configFor(peer), ANSIBLE_STDOUT_CALLBACK: 'default' }, stdio: 'pipe', timeout: 120_000 });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new PeerError(peer, ansibleCause(`${e.stdout?.toString() ?? ''}\n${e.stderr?.toString() ?? ''}`) || e.message);
    }
  }
}
