import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Inventory } from '../inventory/inventory.ts';
import type { VarValue } from '../inventory/model.ts';
import type { Play } from '../model/play.ts';
import { Block, type Item } from '../model/task.ts';
import { displayPath } from '../shell/location.ts';
import { redact } from '../shell/secret.ts';

/**
 * What a run was made from, as digests, so a resumed run can tell whether
 * it would run the same thing: each source file of the playbook (every
 * file that declares one of its plays, tasks, blocks or handlers), each
 * inventory file with the hosts and their groups, and each variable's
 * values across all hosts (inventory, vars files and -e, play vars being
 * part of the playbook's source). A name per entry lets a refusal say what
 * changed. No digest is of a secret: Secret values count as "***", and
 * every text is redacted before it is hashed, so a secret written in plain
 * in a file leaves no unkeyed function of itself here (and a change of a
 * secret alone is not a change: the resumed run reads secrets again).
 */
export interface Fingerprints {
  playbook: Record<string, string>;
  inventory: Record<string, string>;
  variables: Record<string, string>;
}

/** The inventory entry that stands for the hosts and their groups, beside the files. */
export const HOSTS_AND_GROUPS = '(hosts and their groups)';

function digest(text: string): string {
  return createHash('sha256').update(redact(text)).digest('hex');
}

function fileDigest(file: string): string {
  if (!existsSync(file)) return 'missing';
  if (statSync(file).isDirectory()) {
    const entries = readdirSync(file, { recursive: true, encoding: 'utf8' }).sort();
    return digest(entries.map((e) => `${e}\0${statSync(path.join(file, e)).isDirectory() ? 'dir' : fileDigest(path.join(file, e))}`).join('\n'));
  }
  return digest(readFileSync(file, 'utf8'));
}

/** Every file that declares part of the plays: the entry script, the playbook's and roles' files. */
export function playbookFiles(plays: Play[], entry: string | undefined): string[] {
  const files = new Set<string>();
  if (entry) files.add(displayPath(path.resolve(entry)));
  const visit = (items: Item[]) => {
    for (const item of items) {
      if (item.location) files.add(item.location.file);
      if (item instanceof Block) visit([...item.options.block, ...(item.options.rescue ?? []), ...(item.options.always ?? [])]);
    }
  };
  for (const play of plays) {
    if (play.location) files.add(play.location.file);
    for (const role of play.options.roles ?? []) visit([...role.tasks, ...role.handlers]);
    visit(play.tasks);
    visit(play.options.handlers ?? []);
  }
  return [...files].sort();
}

/** A value as text for its digest: Secrets as *** (their toJSON), key order kept. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('base64') : v)) ?? 'undefined';
}

export function fingerprints(input: { plays: Play[]; entry: string | undefined; inventoryFiles: string[]; inventory: Inventory; extraVars: Map<string, VarValue> }): Fingerprints {
  const playbook = Object.fromEntries(playbookFiles(input.plays, input.entry).map((f) => [f, fileDigest(f)]));
  const inventory: Record<string, string> = Object.fromEntries(input.inventoryFiles.map((f) => [displayPath(path.resolve(f)), fileDigest(f)]));
  const hosts = input.inventory.hostNames();
  inventory[HOSTS_AND_GROUPS] = digest(hosts.map((h) => `${h}\0${[...input.inventory.groupsOf(h)].sort().join(',')}`).join('\n'));
  const perName = new Map<string, string[]>();
  for (const host of hosts) {
    const vars = input.inventory.varsFor(host);
    for (const [k, v] of input.extraVars) vars.set(k, v);
    for (const [name, v] of vars) {
      let list = perName.get(name);
      if (!list) perName.set(name, (list = []));
      list.push(`${host}\0${canonical(v.value)}`);
    }
  }
  const variables = Object.fromEntries([...perName].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, list]) => [name, digest(list.join('\n'))]));
  return { playbook, inventory, variables };
}

/** What differs between a record's fingerprints and the current ones, by part; empty when nothing does. */
export function changesSince(recorded: Fingerprints, now: Fingerprints): { part: keyof Fingerprints; names: string[] }[] {
  const parts: (keyof Fingerprints)[] = ['playbook', 'inventory', 'variables'];
  return parts
    .map((part) => {
      const a = recorded[part];
      const b = now[part];
      const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((n) => a[n] !== b[n]).sort();
      return { part, names };
    })
    .filter((c) => c.names.length > 0);
}

/** "the playbook (roles/web/tasks.ts), the variables (db_port)": for a refusal. */
export function describeChanges(changes: { part: keyof Fingerprints; names: string[] }[]): string {
  const label = { playbook: 'the playbook', inventory: 'the inventory', variables: 'the variables' } as const;
  return changes.map((c) => `${label[c.part]} (${c.names.slice(0, 8).join(', ')}${c.names.length > 8 ? `, and ${c.names.length - 8} more` : ''})`).join(', ');
}
