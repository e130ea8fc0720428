/**
 * Whether the archived WAL can be replayed from a base backup's start on.
 * A WAL segment's name is 24 hex digits: timeline, log, segment. With
 * PostgreSQL's default 16 MB segments the segment part goes 00..FF within a
 * log, then the log goes up by one: 0000000100000003000000FF is followed by
 * 000000010000000400000000. Replay needs every segment in order: one
 * missing (pg_receivewal's slot dropped WAL past max_slot_wal_keep_size, a
 * file deleted) ends what can be replayed there, whatever is archived after.
 *
 * A promotion starts a new timeline at the segment where it switched (that
 * position is archived on both), so continuity is judged by position (log,
 * segment) whatever the timeline: recovery follows the timelines' history.
 */
export const SEGMENTS_PER_LOG = 0x100;

const NAME = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial)?$/;

/** The position of a segment in the WAL (log * segments per log + segment), whatever its timeline. */
export function segmentPosition(name: string): number {
  const m = NAME.exec(name);
  if (!m) throw new Error(`${name} is not a WAL segment name (24 hex digits)`);
  return parseInt(m[2]!, 16) * SEGMENTS_PER_LOG + parseInt(m[3]!, 16);
}

/** The name of the segment at a position, on a timeline (8 hex digits). */
export function segmentName(timeline: string, position: number): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${timeline}${hex(Math.floor(position / SEGMENTS_PER_LOG))}${hex(position % SEGMENTS_PER_LOG)}`;
}

export interface WalRun {
  /** The last segment of the continuous run from the start (its archived name, `.partial` kept). */
  last: string;
  /** The first segment missing after it, when a later one is archived: the gap. */
  missing?: string;
  /** The archived segments after the gap, which the replay cannot reach. */
  beyond: number;
}

/**
 * The continuous run of archived segments from `start` (a base backup's
 * start segment), or undefined when `start` itself is not archived.
 */
export function continuousRun(archived: readonly string[], start: string): WalRun | undefined {
  const byPosition = new Map<number, string>();
  for (const name of [...archived].sort()) byPosition.set(segmentPosition(name), name);
  let pos = segmentPosition(start);
  if (!byPosition.has(pos)) return undefined;
  while (byPosition.has(pos + 1)) pos += 1;
  const last = byPosition.get(pos)!;
  const beyond = [...byPosition.keys()].filter((p) => p > pos).length;
  return beyond > 0 ? { last, missing: segmentName(last.slice(0, 8), pos + 1), beyond } : { last, beyond };
}

/** Whether a segment (by position) lies within [from, to]. */
export function segmentWithin(name: string, from: string, to: string): boolean {
  const p = segmentPosition(name);
  return p >= segmentPosition(from) && p <= segmentPosition(to);
}
