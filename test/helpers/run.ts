import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventBus, type RunEvent } from '../../lib/model/events.ts';
import type { Play } from '../../lib/model/play.ts';
import { Runner, type RunSummary } from '../../lib/runner/runner.ts';
import { LAB_INVENTORY, loadInventories, vaultPassphraseFor } from '../../lib/inventory/load.ts';
import type { VarValue } from '../../lib/inventory/model.ts';
import { transportFor } from '../../lib/cli/connection.ts';

export interface RunOutput {
  events: RunEvent[];
  summary: RunSummary;
  runner: Runner;
  /** task name -> host -> status, for compact assertions. */
  statuses: Map<string, Map<string, string>>;
}

/** An inventory of N local hosts (real sh on this machine), written to a temp file. */
export function localInventory(names: string[], extraYaml = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-inv-'));
  const file = path.join(dir, 'hosts.yml');
  writeFileSync(file, `all:\n  vars:\n    ansible_connection: local\n  hosts:\n${names.map((n) => `    ${n}:\n`).join('')}${extraYaml}`);
  return file;
}

export async function runPlays(
  inventoryFile: string,
  plays: Play[],
  options: Partial<{ check: boolean; diff: boolean; tags: string[]; skipTags: string[]; limit: string; extraVars: Record<string, unknown>; forks: number; verbosity: number; onRunner: (runner: Runner) => void }> = {},
): Promise<RunOutput> {
  // The lab's inventory has its own passphrase file; test inventories use 'test'.
  const inventory = await loadInventories([inventoryFile], { vaultPassphrase: path.resolve(inventoryFile) === path.resolve(LAB_INVENTORY) ? vaultPassphraseFor([inventoryFile]) : () => 'test' });
  const bus = new EventBus();
  const events: RunEvent[] = [];
  bus.on((e) => events.push(e));
  const extraVars = new Map<string, VarValue>(Object.entries(options.extraVars ?? {}).map(([k, value]) => [k, { value, origin: '-e' }]));
  const runner = new Runner({
    inventory,
    check: options.check ?? false,
    diff: options.diff ?? false,
    ...(options.limit ? { limit: options.limit } : {}),
    tags: options.tags ?? [],
    skipTags: options.skipTags ?? [],
    extraVars,
    forks: options.forks ?? 10,
    verbosity: options.verbosity ?? 0,
    bus,
    transportFor: (host, vars) => transportFor(host, vars, { hostKeyMode: 'strict' }),
  });
  options.onRunner?.(runner);
  const summary = await runner.run(runner.plan(plays));
  const statuses = new Map<string, Map<string, string>>();
  for (const e of events) {
    if (e.type !== 'task-host') continue;
    if (!statuses.has(e.task)) statuses.set(e.task, new Map());
    statuses.get(e.task)!.set(e.host, e.ignored ? 'ignored' : e.status);
  }
  return { events, summary, runner, statuses };
}

export function scratchDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'rigger-work-'));
}
