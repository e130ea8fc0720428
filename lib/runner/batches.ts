import type { Serial } from '../model/play.ts';

/** Splits a play's hosts into serial batches: sizes from a number, a percentage or a list whose last entry repeats. */
export function serialBatches(hosts: readonly string[], serial: Serial | undefined): string[][] {
  if (serial === undefined || hosts.length === 0) return hosts.length ? [[...hosts]] : [];
  const specs = Array.isArray(serial) ? serial : [serial];
  if (specs.length === 0) return [[...hosts]];
  const size = (spec: number | string): number => {
    if (typeof spec === 'number') return Math.max(1, Math.floor(spec));
    const pct = Number(spec.replace('%', ''));
    return Math.max(1, Math.floor((hosts.length * pct) / 100));
  };
  const batches: string[][] = [];
  let i = 0;
  let n = 0;
  while (i < hosts.length) {
    const s = size(specs[Math.min(n, specs.length - 1)]!);
    batches.push(hosts.slice(i, i + s));
    i += s;
    n++;
  }
  return batches;
}

/** Ansible's rule: the play aborts when the failed share is strictly greater than the limit. */
export function exceedsMaxFail(failed: number, batchSize: number, maxFailPercentage: number | undefined): boolean {
  if (maxFailPercentage === undefined || batchSize === 0) return false;
  return (failed / batchSize) * 100 > maxFailPercentage;
}
