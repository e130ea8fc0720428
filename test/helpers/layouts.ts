import { readFileSync, writeFileSync } from 'node:fs';
import { sh } from '../../lib/shell/command.ts';
import { onNode } from './node.ts';
import { lab } from './lab.ts';
import { runCli, type CliResult } from './cli.ts';

/** Fresh layouts' hosts (those named), their images built and pushed once; the four Swarm nodes are left as they are. */
export function freshLayouts(names: string[]): void {
  const up = lab(['up', '--layouts']);
  if (up.code !== 0) throw new Error(`lab up --layouts failed:\n${up.stdout}\n${up.stderr}`);
  const r = lab(['reset', '--layouts', ...names]);
  if (r.code !== 0) throw new Error(`lab reset --layouts failed:\n${r.stdout}\n${r.stderr}`);
}

/** A playbook run as a user runs it; --vault-password-file for copies of the lab's inventories. */
export function playbook(file: string, inventory: string, args: string[] = [], timeoutMs = 10 * 60_000): Promise<CliResult> {
  return runCli([file, '-i', inventory, '--vault-password-file', '.lab/vault-password', ...args], {}, timeoutMs);
}

/** host -> changed count, from the recap's lines ("core-vm : ok=8 changed=0 ..."). */
export function changedPerHost(out: string): Record<string, number> {
  return Object.fromEntries([...out.matchAll(/^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** A copy of an inventory with one text replaced (a changed variable), in a temp file. */
export function editedInventory(file: string, from: string, to: string, into: string): string {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
  writeFileSync(into, text.replace(from, to));
  return into;
}

/** Container name -> ID of every container on a host. */
export async function containerIds(inventory: string, host: string): Promise<Record<string, string>> {
  const out = (await onNode(inventory, host, sh`docker ps --no-trunc --format '{{.Names}} {{.ID}}'`)).stdout;
  return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

/**
 * The named layouts' hosts put back to fresh when a suite is done with them:
 * their Compose projects and Quadlet units (a dozen services, health checks
 * every few seconds) would otherwise take about a quarter of a 2-core
 * machine's CPU through every lab suite after them (measured with vmstat:
 * 72% idle with them running, 94% with them paused).
 */
export function idleLayouts(names: string[]): void {
  const r = lab(['reset', '--layouts', ...names]);
  if (r.code !== 0) throw new Error(`lab reset --layouts failed:\n${r.stdout}\n${r.stderr}`);
}
