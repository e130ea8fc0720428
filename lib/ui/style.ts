import { Chalk, type ChalkInstance } from 'chalk';
import type { HostStatus } from '../model/events.ts';

/** Colour only on a TTY without NO_COLOR; everything else reads as plain text. */
export function makeChalk(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

export function statusColor(c: ChalkInstance, status: HostStatus | 'rescued' | 'ignored'): (s: string) => string {
  switch (status) {
    case 'ok':
      return c.green;
    case 'changed':
      return c.yellow;
    case 'failed':
    case 'unreachable':
      return c.red;
    case 'skipped':
      return c.cyan;
    default:
      return c.magenta;
  }
}

export function ms(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}
