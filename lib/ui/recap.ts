import type { ChalkInstance } from 'chalk';
import type { RecapCounts } from '../model/events.ts';
import { ms } from './style.ts';

const COLUMNS: (keyof RecapCounts)[] = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'];

/** Ansible's PLAY RECAP, one line per host, colour by the worst outcome. */
export function formatRecap(hosts: Record<string, RecapCounts>, durationMs: number, c: ChalkInstance): string[] {
  const names = Object.keys(hosts);
  const width = Math.max(4, ...names.map((n) => n.length));
  const lines = [c.bold(`PLAY RECAP (${ms(durationMs)})`)];
  for (const name of names) {
    const r = hosts[name]!;
    const color = r.failed || r.unreachable ? c.red : r.changed ? c.yellow : c.green;
    const cells = COLUMNS.map((k) => `${k}=${r[k]}`.padEnd(k === 'unreachable' ? 14 : 10));
    lines.push(`${color(name.padEnd(width))} : ${cells.join(' ')}`.trimEnd());
  }
  return lines;
}
