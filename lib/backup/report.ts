import { alignColumns } from '../shell/columns.ts';
import type { Listing, RunLogEntry } from './listing.ts';
import { nextRuns, wallClock } from './schedule.ts';
import type { ItemVerdict } from './verify-script.ts';
import type { CopyState } from './copy-state.ts';

/** Where a host's sets have their second copy, as --list read it. */
export interface CopiesView {
  /** The copy host; undefined with one backup host only. */
  host: string | undefined;
  /** Per set: its copy's state; absent when the copy host could not be read. */
  states?: Record<string, CopyState> | undefined;
}

/** A set's COPY column: verified on C / missing / damaged (why). */
export function copyCell(copies: CopiesView, set: string): string {
  if (!copies.host) return 'one copy only (no copy host)';
  const c = copies.states?.[set];
  if (!c) return `not read on ${copies.host}`;
  if (c.state === 'verified') return `verified on ${copies.host}`;
  return c.state === 'missing' ? `MISSING on ${copies.host}` : `DAMAGED on ${copies.host}: ${c.problem ?? ''}`;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** 20261122_020000 as a Date in the host's clock, read as UTC: only differences between such dates are used. */
function setDate(name: string): Date {
  return new Date(`${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)}T${name.slice(9, 11)}:${name.slice(11, 13)}:${name.slice(13, 15)}Z`);
}

function age(ms: number): string {
  const h = ms / 3_600_000;
  if (h < 1) return `${Math.max(0, Math.round(ms / 60_000))}m`;
  if (h < 48) return `${Math.round(h)}h`;
  return `${Math.round(h / 24)}d`;
}

/**
 * Scheduled nights with no logged run: from the first scheduled run in the
 * log (before that the timer was not installed) to now, every time the
 * schedule fired with no scheduled `set` entry within six hours after it.
 */
export function missedRuns(log: RunLogEntry[], schedule: string, timezone: string | undefined, now = new Date()): Date[] {
  const scheduled = log.filter((e) => e.kind === 'set' && e.trigger === 'schedule').map((e) => new Date(e.at).getTime());
  if (scheduled.length === 0) return [];
  const first = Math.min(...scheduled);
  const expected = nextRuns(schedule, timezone, 400, new Date(first - 60_000)).filter((d) => d.getTime() < now.getTime() - 6 * 3_600_000);
  return expected.filter((d) => !scheduled.some((t) => t >= d.getTime() - 60_000 && t <= d.getTime() + 6 * 3_600_000));
}

/** The --list view: every set, then the run log's recent lines and any missed night. */
export function listReport(host: string, root: string, listing: Listing, opts: { schedule: string; timezone?: string; now?: Date; copies?: CopiesView }): string {
  const now = opts.now ?? new Date();
  const newest = listing.sets.at(-1);
  // Ages are relative to the newest set's clock when the host's zone is unknown; both are host wall-clock times.
  const nowWall = new Date(`${wallClock(now, opts.timezone).replace(' ', 'T')}:00Z`);
  const copies = opts.copies;
  const rows: string[][] = [['SET', 'STATUS', 'SIZE', 'AGE', ...(copies ? ['COPY'] : []), 'ITEMS']];
  for (const s of [...listing.sets].reverse()) {
    const status = s.state === 'published' ? 'verified' : s.state === 'partial' ? 'partial (not a backup)' : 'unreadable';
    const items = s.manifest
      ? s.manifest.items.map((i) => `${i.name}${i.tables !== undefined ? ` (${i.tables} tables)` : i.files !== undefined ? ` (${i.files} entries)` : ''}`).join(', ') + (s.manifest.pruned?.length ? `; pruned: ${s.manifest.pruned.join(', ')}` : '')
      : (s.problem ?? 'a run in progress, or one that was interrupted');
    const copy = copies ? [s.state === 'published' ? copyCell(copies, s.name) : '-'] : [];
    rows.push([s.name, status, humanBytes(s.manifest?.bytes ?? s.sizeKb * 1024), age(nowWall.getTime() - setDate(s.name).getTime()), ...copy, items]);
  }
  const lines = [`${host}: ${root}, ${humanBytes(listing.availKb * 1024)} free, ${listing.sets.filter((s) => s.state === 'published').length} verified sets${newest ? '' : ' (none yet)'}`];
  if (listing.sets.length) lines.push(alignColumns(rows));
  if (copies?.host && copies.states) {
    const newest = listing.sets.filter((x) => x.state === 'published').at(-1)?.name;
    lines.push(`copies in ${copies.host}'s copies/${host}: checked: manifest, every file's presence and size${newest ? `; for the newest set (${newest}) every file's sha256 too` : ''}`);
  }
  const recent = listing.log.slice(-10);
  if (recent.length) {
    lines.push('', 'recent runs:');
    for (const e of recent) {
      lines.push(`  ${e.at}  ${e.kind.padEnd(7)} ${e.status.padEnd(6)} ${e.trigger.padEnd(8)} ${e.set ?? ''}${e.bytes !== undefined ? ` ${humanBytes(e.bytes)}` : ''}${e.reason ? `  ${e.reason}` : ''}`);
    }
  }
  const missed = missedRuns(listing.log, opts.schedule, opts.timezone, now);
  if (missed.length) lines.push('', `MISSED: no scheduled run logged for ${missed.map((d) => wallClock(d, opts.timezone)).join(', ')} (schedule ${opts.schedule})`);
  return lines.join('\n');
}

export function verifyReport(host: string, set: string, items: ItemVerdict[], problem?: string): string {
  const ok = !problem && items.length > 0 && items.every((i) => i.ok);
  const lines = [`${host}: set ${set} ${ok ? 'VERIFIED' : 'BAD'}${problem ? `: ${problem}` : ''}`];
  for (const i of items) lines.push(`  ${i.ok ? 'ok ' : 'BAD'}  ${i.item}: ${i.detail}`);
  return lines.join('\n');
}
