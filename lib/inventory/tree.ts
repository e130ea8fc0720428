import { isAlias, isMap, isScalar, isSeq, type Node } from '../shell/yaml.ts';
import { InputError } from '../shell/errors.ts';
import type { SourceLocation } from '../shell/location.ts';
import { Secret } from '../shell/secret.ts';
import type { YamlSource } from './yaml-nodes.ts';

/**
 * The inventory walker reads this small tree interface, so YAML files (with
 * line and column for every node) and TypeScript inventories (plain
 * objects) are checked by the same rules.
 */
export interface TreeNode {
  readonly where: SourceLocation | string;
  readonly kind: 'map' | 'seq' | 'scalar' | 'null';
  /** keyIsText is false for a YAML key that is a number or boolean (`1234:`), which Ansible refuses as a host name. */
  entries(): { key: string; keyWhere: SourceLocation | string; value: TreeNode; keyIsText?: boolean }[];
  /** Plain data, vault values decrypted to Secrets. */
  data(): unknown;
  describe(): string;
  fail(detail: string): never;
}

export function yamlTree(src: YamlSource, node: Node | null | undefined): TreeNode {
  const resolved = node && isAlias(node) ? (node.resolve(src.doc) as Node | undefined) : node;
  // An alias is reported where it is used, not where its anchor was defined.
  const where = src.where(node ?? resolved);
  const kind: TreeNode['kind'] = !resolved || (isScalar(resolved) && resolved.value === null)
    ? 'null'
    : isMap(resolved)
      ? 'map'
      : isSeq(resolved)
        ? 'seq'
        : 'scalar';
  return {
    where,
    kind,
    entries: () => {
      if (!isMap(resolved)) return [];
      return resolved.items.map((pair) => {
        const keyNode = pair.key as Node;
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') src.fail(keyNode, 'expected a plain name as key');
        return { key: String(keyNode.value), keyWhere: src.where(keyNode), value: yamlTree(src, pair.value as Node), keyIsText: typeof keyNode.value === 'string' };
      });
    },
    data: () => src.value(resolved),
    describe: () => (kind === 'seq' ? 'a list' : kind === 'scalar' && isScalar(resolved) ? `the ${typeof resolved.value} ${JSON.stringify(resolved.value)}` : kind),
    fail: (detail) => {
      throw new InputError(where, detail);
    },
  };
}

export function objectTree(value: unknown, where: SourceLocation, path = ''): TreeNode {
  const here = path ? `${where.file}:${where.line}:${where.col} (at ${path})` : where;
  const isObj = typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Secret);
  const kind: TreeNode['kind'] = value === null || value === undefined ? 'null' : Array.isArray(value) ? 'seq' : isObj ? 'map' : 'scalar';
  return {
    where: here,
    kind,
    entries: () =>
      isObj
        ? Object.entries(value as Record<string, unknown>).map(([k, v]) => {
            const p = path ? `${path}.${k}` : k;
            return { key: k, keyWhere: `${where.file}:${where.line}:${where.col} (at ${p})`, value: objectTree(v, where, p) };
          })
        : [],
    data: () => value,
    describe: () => (kind === 'seq' ? 'a list' : kind === 'scalar' ? `the ${typeof value} ${JSON.stringify(value)}` : kind),
    fail: (detail) => {
      throw new InputError(here, detail);
    },
  };
}
