import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../shell/errors.ts';
import { displayPath } from '../shell/location.ts';
import { checkVariable, VAR_NAME } from './connection-vars.ts';
import { expandHostRange } from './host-ranges.ts';
import { Inventory } from './inventory.ts';
import { newGroup, type VarLayer } from './model.ts';
import { yamlTree, type TreeNode } from './tree.ts';
import { YamlSource } from './yaml-nodes.ts';

const GROUP_KEYS = ['hosts', 'vars', 'children'];
const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const HOST_NAME = /^[\p{L}\p{N}_.:[\]-]+$/u;

export interface LoadOptions {
  vaultPassphrase: () => string;
}

function mapOrNull(node: TreeNode, what: string): TreeNode | null {
  if (node.kind === 'null') return null;
  if (node.kind !== 'map') node.fail(`${what} must be a mapping (key: value lines), not ${node.describe()}`);
  return node;
}

/** Reads a mapping of variables, checking names and connection variables, keeping positions. */
export function readVars(node: TreeNode, what: string): VarLayer {
  const layer: VarLayer = new Map();
  const map = mapOrNull(node, what);
  for (const { key, keyWhere, value } of map?.entries() ?? []) {
    const data = value.data();
    const problem = checkVariable(key, data);
    // A bad name is reported at the name, a bad value at the value.
    if (problem) fail(VAR_NAME.test(key) ? value.where : keyWhere, problem);
    layer.set(key, { value: data, origin: value.where });
  }
  return layer;
}

/** Adds the groups and hosts of one inventory tree (YAML file or TS object) to the inventory. */
export function readInventoryTree(root: TreeNode, inventory: Inventory): void {
  if (root.kind !== 'map') root.fail('an inventory starts with a mapping of groups, usually `all:`');
  ensureGroup(inventory, 'all', root.where);
  for (const { key, keyWhere, value } of root.entries()) readGroup(inventory, key, keyWhere, value, undefined);
}

export function loadYamlInventory(file: string, inventory: Inventory, options: LoadOptions): void {
  if (!existsSync(file)) throw new InputError(displayPath(file), 'inventory file does not exist');
  const src: YamlSource = new YamlSource(file, readFileSync(file, 'utf8'), options.vaultPassphrase);
  inventory.sources.push(src.file);
  readInventoryTree(yamlTree(src, src.doc.contents), inventory);
  loadVarsDirs(path.dirname(file), inventory, options);
}

function ensureGroup(inventory: Inventory, name: string, where: TreeNode['where']) {
  let g = inventory.groups.get(name);
  if (!g) {
    g = newGroup(name, where);
    inventory.groups.set(name, g);
  }
  return g;
}

function descendants(inventory: Inventory, group: string): Set<string> {
  const out = new Set<string>();
  const stack = [group];
  while (stack.length > 0) {
    for (const c of inventory.groups.get(stack.pop()!)?.children ?? []) {
      if (!out.has(c)) {
        out.add(c);
        stack.push(c);
      }
    }
  }
  return out;
}

function fail(where: TreeNode['where'], detail: string): never {
  throw new InputError(where, detail);
}

function readGroup(inventory: Inventory, name: string, keyWhere: TreeNode['where'], body: TreeNode, parent: string | undefined): void {
  if (!GROUP_NAME.test(name)) fail(keyWhere, `invalid group name ${JSON.stringify(name)}: use letters, digits, _ and -`);
  if (name === 'all' && parent !== undefined) fail(keyWhere, 'the group all cannot be the child of another group');
  if (inventory.hosts.has(name)) fail(keyWhere, `${name} is already a host name; a group cannot share it`);
  const group = ensureGroup(inventory, name, keyWhere);
  if (parent !== undefined) {
    if (parent === name) fail(keyWhere, `group ${name} lists itself as a child`);
    if (descendants(inventory, name).has(parent)) fail(keyWhere, `cycle in children: ${name} is already an ancestor of ${parent}`);
    group.parents.add(parent);
    inventory.groups.get(parent)!.children.add(name);
  } else if (name !== 'all') {
    group.parents.add('all');
    inventory.groups.get('all')!.children.add(name);
  }
  const map = mapOrNull(body, `group ${name}`);
  for (const { key, keyWhere: kw, value } of map?.entries() ?? []) {
    if (!GROUP_KEYS.includes(key)) fail(kw, `unknown key ${JSON.stringify(key)} in group ${name}: expected one of hosts, vars, children`);
    if (key === 'vars') {
      for (const [k, v] of readVars(value, `vars of group ${name}`)) group.vars.set(k, v);
    } else if (key === 'hosts') {
      readHosts(inventory, group.name, value);
    } else {
      const children = mapOrNull(value, `children of group ${name}`);
      for (const child of children?.entries() ?? []) readGroup(inventory, child.key, child.keyWhere, child.value, name);
    }
  }
}

function readHosts(inventory: Inventory, group: string, node: TreeNode): void {
  const hosts = mapOrNull(node, `hosts of group ${group}`);
  for (const { key, keyWhere, value, keyIsText } of hosts?.entries() ?? []) {
    if (keyIsText === false) fail(keyWhere, `host name ${key} is not a string in YAML: quote it ("${key}":), as Ansible requires`);
    let name = key;
    let portFromName: number | undefined;
    const withPort = /^([^:[\]]+|\[[^\]]+\]):(\d+)$/.exec(name);
    if (withPort) {
      name = withPort[1]!;
      portFromName = Number(withPort[2]);
      if (portFromName < 1 || portFromName > 65535) fail(keyWhere, `port ${portFromName} in ${key} is out of range 1-65535`);
    }
    if (!HOST_NAME.test(name)) fail(keyWhere, `invalid host name ${JSON.stringify(name)}`);
    const expanded = expandHostRange(name);
    if (typeof expanded === 'string') fail(keyWhere, expanded);
    const vars = readVars(value, `variables of host ${name}`);
    if (portFromName !== undefined && !vars.has('ansible_port')) vars.set('ansible_port', { value: portFromName, origin: keyWhere });
    for (const hostName of expanded) {
      if (inventory.groups.has(hostName)) fail(keyWhere, `${hostName} is already a group name; a host cannot share it`);
      let host = inventory.hosts.get(hostName);
      if (!host) {
        host = { name: hostName, vars: new Map(), fileVars: new Map(), location: keyWhere };
        inventory.hosts.set(hostName, host);
      }
      for (const [k, v] of vars) host.vars.set(k, v);
      inventory.groups.get(group)!.hosts.add(hostName);
    }
  }
}

/** Files of a group_vars/NAME or host_vars/NAME entry: NAME.yml, NAME.yaml, NAME.json, or NAME/*. */
function varsFiles(dir: string, name: string): string[] {
  const files: string[] = [];
  for (const ext of ['', '.yml', '.yaml', '.json']) {
    const p = path.join(dir, name + ext);
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) if (/\.(ya?ml|json)$/.test(f)) files.push(path.join(p, f));
    } else if (ext !== '') files.push(p);
  }
  return files;
}

function entryNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return [...new Set(readdirSync(dir).map((f) => f.replace(/\.(ya?ml|json)$/, '')))].filter((n) => !n.startsWith('.'));
}

/** Every file of group_vars/ and host_vars/ in a directory, as loadVarsDirs reads them (saved plans and run records digest them). */
export function varsDirFiles(base: string): string[] {
  return ['group_vars', 'host_vars'].flatMap((dirName) => {
    const dir = path.join(base, dirName);
    return entryNames(dir).flatMap((name) => varsFiles(dir, name));
  });
}

/**
 * group_vars/ and host_vars/ in a directory: beside an inventory file
 * (fileVars; a name the inventory lacks is an error) or beside the
 * playbook (playVars; names another inventory defines are skipped, as
 * Ansible does).
 */
export function loadVarsDirs(base: string, inventory: Inventory, options: LoadOptions, layer: 'fileVars' | 'playVars' = 'fileVars'): void {
  for (const [dirName, kind] of [['group_vars', 'group'], ['host_vars', 'host']] as const) {
    const dir = path.join(base, dirName);
    for (const name of entryNames(dir)) {
      const target = kind === 'group' ? inventory.groups.get(name) : inventory.hosts.get(name);
      const files = varsFiles(dir, name);
      if (!target) {
        if (files[0] && layer === 'fileVars') throw new InputError({ file: displayPath(files[0]), line: 1, col: 1 }, `no ${kind} named ${name} in the inventory`);
        continue;
      }
      const into = (target[layer] ??= new Map());
      for (const f of files) for (const [k, v] of readVarsFile(f, options)) into.set(k, v);
    }
  }
}

export function readVarsFile(file: string, options: LoadOptions): VarLayer {
  const src = new YamlSource(file, readFileSync(file, 'utf8'), options.vaultPassphrase);
  return readVars(yamlTree(src, src.doc.contents), `variables file ${src.file}`);
}
