/**
 * Whether the archived WAL can be replayed from a base backup's start on.
 * A WAL segment's name is 24 hex digits: timeline, log, segment. A log is
 * 4 GB of WAL, so it holds 0x100000000 / segment size segments: with
 * PostgreSQL's default 16 MB segments the segment part goes 00..FF within a
 * log, then the log goes up by one (0000000100000003000000FF is followed by
 * 000000010000000400000000); a cluster made with `initdb --wal-segsize 64`
 * goes 00..3F. The size is fixed at initdb (a power of two, 1 MB to 1 GB);
 * the range script reads it from the archived files' size. Replay needs every segment in order: one
 * missing (pg_receivewal's slot dropped WAL past max_slot_wal_keep_size, a
 * file deleted) ends what can be replayed there, whatever is archived after.
 *
 * A promotion starts a new timeline at the segment where it switched (that
 * position is archived on both), so continuity is judged by position (log,
 * segment) whatever the timeline: recovery follows the timelines' history.
 */
export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;

/** Segments per log at a segment size; refuses a size PostgreSQL cannot have (the bytes came from the archive's files). */
export function segmentsPerLog(segmentBytes: number): number {
  const ok = Number.isInteger(segmentBytes) && segmentBytes >= 1024 * 1024 && segmentBytes <= 1024 * 1024 * 1024 && (segmentBytes & (segmentBytes - 1)) === 0;
  if (!ok) throw new Error(`${segmentBytes} bytes is not a WAL segment size (a power of two from 1 MB to 1 GB, set by initdb --wal-segsize)`);
  return 0x100000000 / segmentBytes;
}

const NAME = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial)?$/;

/** The position of a segment in the WAL (log * segments per log + segment), whatever its timeline. */
export function segmentPosition(name: string, segmentBytes = DEFAULT_SEGMENT_BYTES): number {
  const m = NAME.exec(name);
  if (!m) throw new Error(`${name} is not a WAL segment name (24 hex digits)`);
  return parseInt(m[2]!, 16) * segmentsPerLog(segmentBytes) + parseInt(m[3]!, 16);
}

/** The name of the segment at a position, on a timeline (8 hex digits). */
export function segmentName(timeline: string, position: number, segmentBytes = DEFAULT_SEGMENT_BYTES): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  const perLog = segmentsPerLog(segmentBytes);
  return `${timeline}${hex(Math.floor(position / perLog))}${hex(position % perLog)}`;
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
export function continuousRun(archived: readonly string[], start: string, segmentBytes = DEFAULT_SEGMENT_BYTES): WalRun | undefined {
  const byPosition = new Map<number, string>();
  for (const name of [...archived].sort()) byPosition.set(segmentPosition(name, segmentBytes), name);
  let pos = segmentPosition(start, segmentBytes);
  if (!byPosition.has(pos)) return undefined;
  while (byPosition.has(pos + 1)) pos += 1;
  const last = byPosition.get(pos)!;
  const beyond = [...byPosition.keys()].filter((p) => p > pos).length;
  return beyond > 0 ? { last, missing: segmentName(last.slice(0, 8), pos + 1, segmentBytes), beyond } : { last, beyond };
}

/** Whether a segment (by position) lies within [from, to]. */
export function segmentWithin(name: string, from: string, to: string, segmentBytes = DEFAULT_SEGMENT_BYTES): boolean {
  const p = segmentPosition(name, segmentBytes);
  return p >= segmentPosition(from, segmentBytes) && p <= segmentPosition(to, segmentBytes);
}
