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
 * The source of a playbook: its own file and every file that declares one
 * of its plays, tasks, blocks or handlers (their call sites, which every
 * task records for its error messages). Not the whole import graph: a
 * module that defines no task (a helper, rigger itself in node_modules)
 * decides nothing on its own, and whatever it makes a task do shows in
 * that task's change digest. A role's template given as a function of its
 * file is covered the same way.
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

function fileSet(files: readonly string[], digester: Digester): DigestSet {
  const parts: Record<string, string> = {};
  for (const f of files) parts[f] = existsSync(f) ? digester.digest('file', readFileSync(f)) : 'missing';
  return { digest: digester.digest('set', JSON.stringify(parts)), parts };
}

export function planInputs(s: InputSources, digester: Digester): PlanInputs {
  const vars: Record<string, string> = {};
  for (const [name, v] of [...s.extraVars].sort(([a], [b]) => a.localeCompare(b))) vars[name] = digester.digest('var', JSON.stringify(digester.canonical(v.value)) ?? 'undefined');
  return {
    source: fileSet(sourceFiles(s.playbook, s.plays), digester),
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
