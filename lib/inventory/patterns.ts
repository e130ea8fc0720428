import { InputError } from '../shell/errors.ts';
import type { SourceLocation } from '../shell/location.ts';
import type { Inventory } from './inventory.ts';

/**
 * Ansible host patterns: `all`, `*`, host and group names, globs (`web*`),
 * `~regex`, and terms joined by `:` or `,` where `&term` intersects and
 * `!term` excludes. Unions apply first, then intersections, then
 * exclusions, as in Ansible. A term that matches nothing is an error, not a
 * silent empty play: it is almost always a typo.
 */
export function splitPattern(pattern: string): string[] {
  // As Ansible's split_host_pattern: commas always separate; without one,
  // a single address (IPv6, host:port, a host with a [x:y] range) stays
  // whole, and otherwise ':' separates terms outside brackets.
  let terms: string[];
  if (pattern.includes(',')) terms = pattern.split(',');
  else if (isSingleAddress(pattern.trim())) terms = [pattern];
  else terms = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

/** What Ansible's parse_address accepts: [address]:port, name or IPv4 (with [x:y] ranges) and :port, a bare IPv6 address. */
function isSingleAddress(p: string): boolean {
  if (/^\[[^\]]+\](:\d+)?$/.test(p)) return true;
  if (/^(?:[A-Za-z0-9_.-]|\[[^\]]*\])+(:\d+)?$/.test(p)) return true;
  return /^[0-9a-fA-F:]+$/.test(p) && (p.includes('::') || p.split(':').length === 8);
}

/** `group[0]`, `group[-1]`, `group[1:3]`, `group[2:]`: a slice of the hosts a term matches, as Ansible's subscripts. */
function splitSubscript(term: string): { expr: string; start: number; end?: number } | undefined {
  if (term.startsWith('~')) return undefined;
  const m = /^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$/.exec(term);
  if (!m) return undefined;
  if (m[2] !== undefined) return { expr: m[1]!, start: Number(m[2]) };
  return { expr: m[1]!, start: Number(m[3]), end: m[4] === '' ? -1 : Number(m[4]) };
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function matchTerm(inventory: Inventory, term: string): string[] | undefined {
  const sub = inventory.hosts.has(term) ? undefined : splitSubscript(term);
  if (sub) {
    const hosts = matchTerm(inventory, sub.expr);
    if (!hosts) return undefined;
    if (sub.end === undefined || sub.end === 0) {
      const one = hosts[sub.start < 0 ? hosts.length + sub.start : sub.start];
      if (one === undefined) throw new Error(`no host at position ${sub.start} of ${sub.expr} (${hosts.length} hosts)`);
      return [one];
    }
    return hosts.slice(sub.start, (sub.end === -1 ? hosts.length - 1 : sub.end) + 1);
  }
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
  // As in Ansible, a pattern with no terms (',' or ',,') selects every host.
  if (terms.length === 0) return inventory.hostNames();
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
      throw new InputError(where, `host pattern ${JSON.stringify(raw)}: ${(err as Error).message}`);
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
