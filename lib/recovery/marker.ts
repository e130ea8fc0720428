import { z } from '../core/zod.ts';
import { sh, type Command } from '../core/command.ts';

/**
 * A recovery's progress, kept on the backup disk (ROOT/.rigger/recovery.json),
 * which outlives the nodes being rebuilt: a run interrupted at any phase and
 * started again with the same set resumes instead of being refused as a
 * cluster that holds data, and does not restore the databases a second time
 * once they were restored (the applications may have written since).
 */
export const recoveryMarker = z
  .object({
    set: z.string(),
    started: z.string(),
    restored: z.string().optional(),
    completed: z.string().optional(),
  })
  .loose();
export type RecoveryMarker = z.output<typeof recoveryMarker>;

export const markerPath = (root: string) => `${root}/.rigger/recovery.json`;

export function readMarkerCommand(root: string): Command {
  return sh`cat -- ${markerPath(root)} 2>/dev/null || true`;
}

export function parseMarker(text: string): RecoveryMarker | undefined {
  if (!text.trim()) return undefined;
  try {
    return recoveryMarker.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Is this run the continuation of an unfinished recovery of the same set? */
export function resuming(marker: RecoveryMarker | undefined, set: string): boolean {
  return marker !== undefined && marker.set === set && marker.completed === undefined;
}
