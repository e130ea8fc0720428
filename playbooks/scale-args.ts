// scale.ts's command line, checked before any host is contacted: every
// error names the argument it is about and exits 4 (docs/cli.md).
import { InputError } from 'rigger-ops';
import type { InventoryService } from '../roles/stacks/services.ts';

export type ScaleRequest =
  | { kind: 'list' }
  | { kind: 'set'; targets: { service: string; replicas: number }[]; reason: string }
  /** services empty: every recorded scale. */
  | { kind: 'clear'; services: string[] };

const bad = (message: string) => new InputError('command line', message);

/** SERVICE=N ... --reason TEXT, --clear [SERVICE ...], or nothing (list the scales). */
export function parseScaleArgs(positionals: readonly string[], flags: { reason?: string | boolean | undefined; clear?: string | boolean | undefined }): ScaleRequest {
  const reason = typeof flags.reason === 'string' ? flags.reason : undefined;
  if (flags.clear) {
    if (reason !== undefined) throw bad('--reason goes with SERVICE=N; --clear takes none');
    const withCount = positionals.find((a) => a.includes('='));
    if (withCount) throw bad(`${withCount}: --clear takes service names (--clear SERVICE ...), or none for every scale`);
    return { kind: 'clear', services: unique(positionals) };
  }
  if (positionals.length === 0) {
    if (reason !== undefined) throw bad('--reason needs SERVICE=N: name what to scale');
    return { kind: 'list' };
  }
  const targets = positionals.map((arg) => {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw bad(`${arg}: write SERVICE=N (a whole number of replicas, 0 or more)`);
    const [service, count] = [arg.slice(0, eq), arg.slice(eq + 1)];
    if (!/^\d+$/.test(count)) throw bad(`${arg}: N must be a whole number of replicas, 0 or more; got ${JSON.stringify(count)}`);
    return { service, replicas: Number(count) };
  });
  unique(targets.map((t) => t.service));
  if (reason === undefined || !reason.trim()) throw bad('--reason TEXT is required: say why (the daily check and every stack run show it until --clear)');
  if (/[\r\n]/.test(reason)) throw bad('--reason: one line');
  return { kind: 'set', targets, reason: reason.trim() };
}

function unique(names: readonly string[]): string[] {
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw bad(`${twice} is named twice`);
  return [...names];
}

/** Each named service must be a replicated service of the inventory's stacks. */
export function checkServices(names: readonly string[], known: readonly InventoryService[]): InventoryService[] {
  return names.map((n) => {
    const s = known.find((k) => k.name === n);
    if (!s) throw bad(`${n}: not a service of the inventory's stacks (STACK_SERVICE, one of: ${known.map((k) => k.name).join(', ') || 'none'})`);
    if (s.global) throw bad(`${n}: a global service (one task per node) has no replica count to scale`);
    return s;
  });
}
