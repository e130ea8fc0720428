import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../shell/errors.ts';
import { displayPath, type SourceLocation } from '../shell/location.ts';
import { splitWords } from '../shell/shell-words.ts';
import { checkVariable } from './connection-vars.ts';
import { expandHostRange } from './host-ranges.ts';
import type { Inventory } from './inventory.ts';
import { newGroup } from './model.ts';
import { pythonLiteral } from './python-literal.ts';
import { loadVarsDirs, type LoadOptions } from './yaml-inventory.ts';

/**
 * Ansible's INI inventory format, read as ansible-core 2.14 reads it:
 *
 *   host1 ansible_port=2222 role="web server"   # hosts before any section are ungrouped
 *   [web]                 hosts of group web; ranges such as www[01:20]
 *   [web:vars]            key=value variables of group web
 *   [infra:children]      groups that are children of infra
 *
 * Values are typed as Ansible types them (Python literals, else text; see
 * python-literal.ts). A group named in :children or :vars must be defined
 * somewhere in the file. Errors name the file and line.
 */
const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_LINE = /^([^:\]\s]+)\s*(?:#.*)?$/;

/** Words of a host line as Python's shlex.split(line, comments=True) gives them. */
export const shellWords = (line: string): string[] | string => splitWords(line, true);

/** `host`, `host:port`, `[v6]:port`, a bare IPv6 address, with ranges expanded. */
function hostPattern(token: string, fail: (msg: string) => never): { names: string[]; port?: number } {
  let name = token;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(token);
  const withPort = /^([^:]+):(\d+)$/.exec(token);
  if (bracketed && bracketed[1]!.includes(':')) {
    name = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (withPort) {
    name = withPort[1]!;
    port = Number(withPort[2]);
  } else if (token.endsWith(':')) {
    fail(`Invalid host pattern '${token}' supplied, ending in ':' is not allowed, this character is reserved to provide a port`);
  }
  if (port !== undefined && (port < 1 || port > 65535)) fail(`port ${port} in ${token} is out of range 1-65535`);
  const names = name.includes('::') || /^[0-9a-f:]+$/i.test(name) && name.split(':').length > 2 ? [name] : expandHostRange(name);
  if (typeof names === 'string') fail(names);
  if (names.includes('---')) fail(`Invalid host pattern '${token}' supplied, '---' is normally a sign this is a YAML file`);
  return port === undefined ? { names } : { names, port };
}

interface Pending {
  line: number;
  state: 'vars' | 'children';
  parents: string[];
}

export function readIniInventory(file: string, text: string, inventory: Inventory): void {
  const shown = displayPath(file);
  // A group gets no parent here: once every inventory is read, those still
  // without one become children of all (reconcileGroups), in Ansible's order.
  const ensureGroup = (name: string, where: SourceLocation) => {
    if (!inventory.groups.has(name)) inventory.groups.set(name, newGroup(name, where));
    return inventory.groups.get(name)!;
  };
  const addChild = (parent: string, child: string, where: SourceLocation) => {
    if (child === 'all') throw new InputError(where, 'the group all cannot be the child of another group');
    if (parent === child) throw new InputError(where, `group ${child} lists itself as a child`);
    inventory.groups.get(child)!.parents.add(parent);
    inventory.groups.get(parent)!.children.add(child);
  };
  ensureGroup('all', { file: shown, line: 1, col: 1 });
  const pending = new Map<string, Pending>();
  const addPendingChildren = (group: string, where: SourceLocation) => {
    for (const parent of pending.get(group)!.parents) {
      addChild(parent, group, where);
      if (pending.get(parent)?.state === 'children') addPendingChildren(parent, where);
    }
    pending.delete(group);
  };
  let group = 'ungrouped';
  let state = 'hosts';
  text.split(/\r?\n/).forEach((raw, index) => {
    const where: SourceLocation = { file: shown, line: index + 1, col: 1 };
    const fail = (msg: string): never => {
      throw new InputError(where, msg);
    };
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const section = SECTION.exec(line);
    if (section) {
      group = section[1]!;
      state = section[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) fail(`section [${group}:${state}] has unknown type ${state}: expected [${group}], [${group}:vars] or [${group}:children]`);
      if (inventory.hosts.has(group)) fail(`${group} is already a host name; a group cannot share it`);
      if (!inventory.groups.has(group) && state === 'vars' && !pending.has(group)) pending.set(group, { line: index + 1, state: 'vars', parents: [] });
      ensureGroup(group, where);
      const p = pending.get(group);
      if (p && state !== 'vars') {
        if (p.state === 'children') addPendingChildren(group, where);
        else pending.delete(group);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) fail(`invalid section ${line}: a section is [group], [group:vars] or [group:children], with no spaces`);
    if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) fail(`expected key=value in [${group}:vars], got ${line}`);
      const key = line.slice(0, eq).trim();
      const value = pythonLiteral(line.slice(eq + 1).trim());
      const problem = checkVariable(key, value);
      if (problem) fail(problem);
      inventory.groups.get(group)!.vars.set(key, { value, origin: where });
    } else if (state === 'children') {
      const child = GROUP_LINE.exec(line)?.[1] ?? fail(`expected a group name in [${group}:children], got ${line}`);
      // As Ansible: a group not seen yet waits for its own section; [child:vars] alone does not define it.
      if (inventory.groups.has(child)) addChild(group, child, where);
      else if (pending.has(child)) pending.get(child)!.parents.push(group);
      else pending.set(child, { line: index + 1, state: 'children', parents: [group] });
    } else {
      const words = shellWords(line);
      if (typeof words === 'string') fail(`cannot read the host line ${line}: ${words}`);
      const { names, port } = hostPattern(words[0]!, fail);
      const vars = new Map<string, { value: unknown; origin: SourceLocation }>();
      for (const w of words.slice(1)) {
        const eq = w.indexOf('=');
        if (eq < 0) fail(`expected key=value host variable assignment, got ${w}`);
        const key = w.slice(0, eq);
        const value = pythonLiteral(w.slice(eq + 1));
        const problem = checkVariable(key, value);
        if (problem) fail(problem);
        vars.set(key, { value, origin: where });
      }
      if (port !== undefined) vars.set('ansible_port', { value: port, origin: where });
      ensureGroup(group, where);
      for (const name of names) {
        if (inventory.groups.has(name)) fail(`${name} is already a group name; a host cannot share it`);
        let host = inventory.hosts.get(name);
        if (!host) {
          host = { name, vars: new Map(), fileVars: new Map(), location: where };
          inventory.hosts.set(name, host);
        }
        for (const [k, v] of vars) host.vars.set(k, v);
        inventory.groups.get(group)!.hosts.add(name);
      }
    }
  });
  for (const [name, p] of pending) {
    const where = { file: shown, line: p.line, col: 1 };
    if (p.state === 'vars') throw new InputError(where, `section [${name}:vars] is for a group that is not defined anywhere: add [${name}] or list it under a [parent:children]`);
    throw new InputError(where, `section [${p.parents[p.parents.length - 1]}:children] includes the undefined group ${name}: add a [${name}] section`);
  }
}

/** Groups with no parent become children of all, in the order they were defined, as Ansible's reconcile does. */
export function reconcileGroups(inventory: Inventory): void {
  for (const g of inventory.groups.values()) {
    if (g.name === 'all' || g.parents.size > 0) continue;
    g.parents.add('all');
    inventory.groups.get('all')!.children.add(g.name);
  }
}

export function loadIniInventory(file: string, inventory: Inventory, options: LoadOptions): void {
  if (!existsSync(file)) throw new InputError(displayPath(file), 'inventory file does not exist');
  inventory.sources.push(displayPath(file));
  readIniInventory(file, readFileSync(file, 'utf8'), inventory);
  loadVarsDirs(path.dirname(file), inventory, options);
}
