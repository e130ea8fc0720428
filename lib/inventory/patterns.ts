import { InputError } from '../core/errors.ts';
import type { SourceLocation } from '../core/location.ts';
import type { Inventory } from './inventory.ts';

/**
 * Ansible host patterns: `all`, `*`, host and group names, globs (`web*`),
 * `~regex`, and terms joined by `:` or `,` where `&term` intersects and
 * `!term` excludes. Unions apply first, then intersections, then
 * exclusions, as in Ansible. A term that matches nothing is an error, not a
 * silent empty play: it is almost always a typo.
 */
export function splitPattern(pattern: string): string[] {
  // ':' separates terms except inside a regex term, which runs to the end of its term with ','.
  const terms: string[] = [];
  for (const chunk of pattern.split(',')) {
    if (chunk.trim().startsWith('~')) {
      terms.push(chunk.trim());
      continue;
    }
    for (const t of chunk.split(':')) if (t.trim()) terms.push(t.trim());
  }
  return terms;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function matchTerm(inventory: Inventory, term: string): string[] | undefined {
  if (term === 'all' || term === '*') return inventory.hostNames();
  if (inventory.groups.has(term)) return inventory.hostsOf(term);
  if (inventory.hosts.has(term)) return [term];
  let re: RegExp | undefined;
  if (term.startsWith('~')) re = new RegExp(term.slice(1));
  else if (/[*?[]/.test(term)) re = globToRegExp(term);
  if (!re) return undefined;
  const hosts = new Set<string>();
  for (const h of inventory.hostNames()) if (re.test(h)) hosts.add(h);
  for (const g of inventory.groups.keys()) if (re.test(g)) for (const h of inventory.hostsOf(g)) hosts.add(h);
  return hosts.size > 0 ? inventory.hostNames().filter((h) => hosts.has(h)) : undefined;
}

export function resolvePattern(inventory: Inventory, pattern: string, where: SourceLocation | string): string[] {
  const terms = splitPattern(pattern);
  if (terms.length === 0) throw new InputError(where, `empty host pattern`);
  const union = new Set<string>();
  const intersections: Set<string>[] = [];
  const exclusions = new Set<string>();
  for (const raw of terms) {
    const kind = raw.startsWith('&') ? '&' : raw.startsWith('!') ? '!' : '';
    const term = kind ? raw.slice(1) : raw;
    let matched: string[] | undefined;
    try {
      matched = matchTerm(inventory, term);
    } catch (err) {
      throw new InputError(where, `bad regular expression in host pattern ${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
    if (!matched) {
      const known = [...inventory.groups.keys()].join(', ');
      throw new InputError(
        where,
        `host pattern ${JSON.stringify(pattern)}: ${JSON.stringify(term)} is not a host or group in the inventory (groups: ${known})`,
      );
    }
    if (kind === '&') intersections.push(new Set(matched));
    else if (kind === '!') for (const h of matched) exclusions.add(h);
    else for (const h of matched) union.add(h);
  }
  // A pattern made only of exclusions or intersections starts from every host.
  const base = union.size > 0 || terms.some((t) => !/^[&!]/.test(t)) ? union : new Set(inventory.hostNames());
  return inventory
    .hostNames()
    .filter((h) => base.has(h) && intersections.every((s) => s.has(h)) && !exclusions.has(h));
}
