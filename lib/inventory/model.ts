import type { SourceLocation } from '../shell/location.ts';

/** A variable's value and where the user wrote it, for errors that point at the line. */
export interface VarValue {
  value: unknown;
  origin: SourceLocation | string;
}

export type VarLayer = Map<string, VarValue>;

export interface GroupDef {
  name: string;
  vars: VarLayer;
  /** group_vars/ files: above the inventory file's own group vars, as in Ansible. */
  fileVars: VarLayer;
  /** group_vars/ beside the playbook: above those beside the inventory. */
  playVars?: VarLayer;
  children: Set<string>;
  parents: Set<string>;
  hosts: Set<string>;
  location: SourceLocation | string;
}

export interface HostDef {
  name: string;
  vars: VarLayer;
  /** host_vars/ files: above the inventory file's host vars. */
  fileVars: VarLayer;
  /** host_vars/ beside the playbook: above those beside the inventory. */
  playVars?: VarLayer;
  location: SourceLocation | string;
}

export function emptyLayer(): VarLayer {
  return new Map();
}

export function newGroup(name: string, location: SourceLocation | string): GroupDef {
  return {
    name,
    vars: emptyLayer(),
    fileVars: emptyLayer(),
    children: new Set(),
    parents: new Set(),
    hosts: new Set(),
    location,
  };
}
