import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Inventory } from '../inventory/inventory.ts';
import type { VarValue } from '../inventory/model.ts';
import type { Play } from '../model/play.ts';
import { Block, type Item } from '../model/task.ts';
import { displayPath } from '../shell/location.ts';
import { varsDirFiles } from '../inventory/yaml-inventory.ts';
import type { KeyedDigest, KeyParams } from '../shell/keyed-digest.ts';
import { redact, Secret } from '../shell/secret.ts';

/**
 * What a run was made from, as digests, so a resumed run can tell whether
 * it would run the same thing: each source file of the playbook (every
 * file that declares one of its plays, tasks, blocks or handlers), each
 * inventory file with the hosts and their groups, and each variable's
 * values across all hosts (inventory, vars files and -e, play vars being
 * part of the playbook's source), and the arguments that choose what runs
 * (--tags, --skip-tags, the playbook's own arguments and flags). A name per
 * entry lets a refusal say what changed. No digest is an unkeyed function
 * of a secret: every text is redacted before it is hashed, and a Secret
 * value counts as an HMAC under a key derived from the vault passphrase
 * (`key`: the salt and cost, never the key), so a changed vault value is a
 * change; without a passphrase at hand it counts as "***".
 */
export interface Fingerprints {
  playbook: Record<string, string>;
  inventory: Record<string, string>;
  variables: Record<string, string>;
  /** Absent in a record written before they were recorded: any resume of it then names them changed. */
  arguments?: Record<string, string>;
  /** How the Secret values' digests were keyed (absent: no secret, or no passphrase). */
  key?: KeyParams;
}

/** What a run was asked to run: the selection a resume must repeat (--limit may narrow it; it is not here). */
export interface RunArguments {
  tags: string[];
  skipTags: string[];
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
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

/** Secrets replaced by their keyed digest, or *** with no key (toJSON runs before a replacer could see them). */
function keyedSecrets(value: unknown, key: KeyedDigest | undefined): unknown {
  if (value instanceof Secret) return key ? { secret: key.digest(value.reveal()) } : '***';
  if (Array.isArray(value)) return value.map((v) => keyedSecrets(v, key));
  if (value instanceof Map) return [...value].map(([k, v]) => [keyedSecrets(k, key), keyedSecrets(v, key)]);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keyedSecrets(v, key)]));
  }
  return value;
}

/** Whether any variable holds a Secret: only then is a key derived (scrypt costs a tenth of a second). */
export function holdsSecret(value: unknown): boolean {
  if (value instanceof Secret) return true;
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (value instanceof Map) return [...value.values()].some(holdsSecret);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) return Object.values(value).some(holdsSecret);
  return false;
}

/** A value as text for its digest, key order kept. */
function canonical(value: unknown, key: KeyedDigest | undefined): string {
  return JSON.stringify(keyedSecrets(value, key), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('base64') : v)) ?? 'undefined';
}

export interface FingerprintInput {
  plays: Play[];
  entry: string | undefined;
  inventoryFiles: string[];
  inventory: Inventory;
  extraVars: Map<string, VarValue>;
  /** group_vars/ and host_vars/ beside the playbook are inputs too. */
  playbookDir?: string | undefined;
  arguments?: RunArguments;
  /** Keys the digests of Secret values. */
  key?: KeyedDigest | undefined;
}

export function fingerprints(input: FingerprintInput): Fingerprints {
  const playbook = Object.fromEntries(playbookFiles(input.plays, input.entry).map((f) => [f, fileDigest(f)]));
  const inventory: Record<string, string> = Object.fromEntries(input.inventoryFiles.map((f) => [displayPath(path.resolve(f)), fileDigest(f)]));
  // The vars files beside each inventory file and beside the playbook: their text, as the inventory's.
  const varsDirs = [...input.inventoryFiles.filter((f) => !/\.[cm]?ts$/.test(f)).map((f) => path.dirname(path.resolve(f))), ...(input.playbookDir ? [path.resolve(input.playbookDir)] : [])];
  for (const dir of new Set(varsDirs)) for (const f of varsDirFiles(dir)) inventory[displayPath(f)] = fileDigest(f);
  const hosts = input.inventory.hostNames();
  inventory[HOSTS_AND_GROUPS] = digest(hosts.map((h) => `${h}\0${[...input.inventory.groupsOf(h)].sort().join(',')}`).join('\n'));
  const perName = new Map<string, string[]>();
  for (const host of hosts) {
    const vars = input.inventory.varsFor(host);
    for (const [k, v] of input.extraVars) vars.set(k, v);
    for (const [name, v] of vars) {
      let list = perName.get(name);
      if (!list) perName.set(name, (list = []));
      list.push(`${host}\0${canonical(v.value, input.key)}`);
    }
  }
  const variables = Object.fromEntries([...perName].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, list]) => [name, digest(list.join('\n'))]));
  const out: Fingerprints = { playbook, inventory, variables, arguments: argumentDigests(input.arguments ?? { tags: [], skipTags: [], positionals: [], flags: {} }) };
  if (input.key) out.key = input.key.params;
  return out;
}

/** One entry per argument that chooses what runs: --tags and --skip-tags always, each positional and flag given. */
function argumentDigests(a: RunArguments): Record<string, string> {
  const out: Record<string, string> = { '--tags': digest(JSON.stringify([...a.tags].sort())), '--skip-tags': digest(JSON.stringify([...a.skipTags].sort())) };
  a.positionals.forEach((p, i) => (out[`argument ${i + 1}`] = digest(p)));
  for (const [name, v] of Object.entries(a.flags)) if (v !== undefined && v !== false) out[`--${name}`] = digest(String(v));
  return out;
}

/** What differs between a record's fingerprints and the current ones, by part; empty when nothing does. */
type Part = 'playbook' | 'inventory' | 'variables' | 'arguments';

export function changesSince(recorded: Fingerprints, now: Fingerprints): { part: Part; names: string[] }[] {
  const parts: Part[] = ['playbook', 'inventory', 'variables', 'arguments'];
  return parts
    .map((part) => {
      const a = recorded[part] ?? {};
      const b = now[part] ?? {};
      const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((n) => a[n] !== b[n]).sort();
      return { part, names };
    })
    .filter((c) => c.names.length > 0);
}

/** "the playbook (roles/web/tasks.ts), the variables (db_port)": for a refusal. */
export function describeChanges(changes: { part: Part; names: string[] }[]): string {
  const label = { playbook: 'the playbook', inventory: 'the inventory', variables: 'the variables', arguments: 'the arguments' } as const;
  return changes.map((c) => `${label[c.part]} (${c.names.slice(0, 8).join(', ')}${c.names.length > 8 ? `, and ${c.names.length - 8} more` : ''})`).join(', ');
}
