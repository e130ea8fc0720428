import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Play } from '../model/play.ts';
import { Block, type Item } from '../model/task.ts';
import type { Inventory } from '../inventory/inventory.ts';
import { inventoryFormat } from '../inventory/load.ts';
import type { VarValue } from '../inventory/model.ts';
import { varsDirFiles } from '../inventory/yaml-inventory.ts';
import { displayPath } from '../shell/location.ts';
import type { DigestSet, PlanInputs } from './format.ts';
import type { Digester } from './keyed-digest.ts';
import { lockfileOf, moduleGraph, riggerVersion } from './module-graph.ts';

/** What the inputs are read from: the run's plays, inventory and extra variables. */
export interface InputSources {
  /** The playbook file run (argv[1]). */
  playbook: string | undefined;
  plays: Play[];
  inventory: Inventory;
  /** The playbook's directory: its group_vars/ and host_vars/ are variables too. */
  playbookDir: string | undefined;
  extraVars: Map<string, VarValue>;
}

function itemFiles(items: readonly Item[], into: Set<string>): void {
  for (const item of items) {
    if (item.location) into.add(item.location.file);
    if (item instanceof Block) itemFiles([...item.options.block, ...(item.options.rescue ?? []), ...(item.options.always ?? [])], into);
  }
}

/**
 * The files that declare the playbook's plays, tasks, blocks or handlers
 * (their call sites, which every task records for its error messages),
 * with the playbook itself. The source digest adds every module these
 * import (module-graph.ts): a module that declares no task (an op module,
 * a helper) still decides what a task does and which commands it sends.
 */
export function sourceFiles(playbook: string | undefined, plays: readonly Play[]): string[] {
  const files = new Set<string>();
  if (playbook) files.add(displayPath(playbook));
  for (const play of plays) {
    if (play.location) files.add(play.location.file);
    for (const role of play.options.roles ?? []) itemFiles([...role.tasks, ...role.handlers], files);
    itemFiles([...play.tasks, ...(play.options.handlers ?? [])], files);
  }
  return [...files].filter((f) => !/[\\/]node_modules[\\/]/.test(f)).sort();
}

/** Every inventory file read, and the vars files beside them (YAML and INI) and beside the playbook. */
export function inventoryFiles(inventory: Inventory, playbookDir: string | undefined): string[] {
  const files = new Set(inventory.sources);
  for (const source of inventory.sources) if (inventoryFormat(source) !== 'ts') for (const f of varsDirFiles(path.dirname(source))) files.add(displayPath(f));
  if (playbookDir) for (const f of varsDirFiles(playbookDir)) files.add(displayPath(f));
  return [...files].sort();
}

function fileSet(files: readonly string[], digester: Digester, extra: Record<string, string> = {}): DigestSet {
  const parts: Record<string, string> = {};
  for (const f of files) parts[f] = existsSync(f) ? digester.digest('file', readFileSync(f)) : 'missing';
  Object.assign(parts, extra);
  return { digest: digester.digest('set', JSON.stringify(parts)), parts };
}

/** The name the source digest gives rigger's own version. */
export const RIGGER_VERSION_PART = '(rigger version)';

/**
 * The source a plan is bound to: the files that declare its tasks, every
 * project module the playbook loads (and those files load), the project's
 * lockfile, and rigger's version. Anything else that could make the same
 * task decide or send something else.
 */
export function sourceOf(playbook: string | undefined, plays: readonly Play[], digester: Digester): DigestSet {
  const files = new Set(sourceFiles(playbook, plays));
  for (const m of moduleGraph([...files, ...(playbook ? [playbook] : [])])) files.add(displayPath(m));
  const lockfile = playbook ? lockfileOf(playbook) : undefined;
  if (lockfile) files.add(displayPath(lockfile));
  const sorted = [...files].filter((f) => !/[\\/]node_modules[\\/]/.test(f)).sort();
  return fileSet(sorted, digester, { [RIGGER_VERSION_PART]: digester.digest('version', riggerVersion()) });
}

export function planInputs(s: InputSources, digester: Digester): PlanInputs {
  const vars: Record<string, string> = {};
  for (const [name, v] of [...s.extraVars].sort(([a], [b]) => a.localeCompare(b))) vars[name] = digester.digest('var', JSON.stringify(digester.canonical(v.value)) ?? 'undefined');
  return {
    source: sourceOf(s.playbook, s.plays, digester),
    inventory: fileSet(inventoryFiles(s.inventory, s.playbookDir), digester),
    variables: { digest: digester.digest('set', JSON.stringify(vars)), parts: vars },
  };
}

const WHAT = { source: 'playbook source', inventory: 'inventory', variables: 'variables (-e)' } as const;

/** What differs between the plan's inputs and the run's, one line each naming the file or variable. */
export function inputDifferences(planned: PlanInputs, now: PlanInputs): string[] {
  const out: string[] = [];
  for (const k of ['source', 'inventory', 'variables'] as const) {
    const a = planned[k].parts;
    const b = now[k].parts;
    const name = (p: string) => (k === 'variables' ? `-e ${p}` : p);
    const before = out.length;
    for (const p of Object.keys(a)) {
      if (!(p in b)) out.push(`${WHAT[k]}: ${name(p)} is no longer read`);
      else if (a[p] !== b[p]) out.push(`${WHAT[k]}: ${name(p)} changed`);
    }
    for (const p of Object.keys(b)) if (!(p in a)) out.push(`${WHAT[k]}: ${name(p)} is new`);
    if (out.length === before && planned[k].digest !== now[k].digest) out.push(`${WHAT[k]} changed`);
  }
  return out;
}

/** The three digests as the `plan` event shows them. */
export function digestSummary(inputs: PlanInputs): Record<string, string> {
  return { source: inputs.source.digest, inventory: inputs.inventory.digest, variables: inputs.variables.digest };
}
