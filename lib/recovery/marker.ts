import { z } from '../shell/zod.ts';
import { sh, type Command } from '../shell/command.ts';

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

export type MarkerStage = 'started' | 'restored' | 'completed';

/**
 * The marker a stage of this run writes, from the one on the disk at that
 * moment (not the one read when the run began, which may be an earlier,
 * completed recovery's): the start and restore times stay those of this
 * recovery, the one the disk holds unless it is finished or of another set.
 */
export function nextMarker(onDisk: RecoveryMarker | undefined, set: string, stage: MarkerStage, at: string): RecoveryMarker {
  const mine = resuming(onDisk, set) ? onDisk : undefined;
  if (stage === 'started') return { set, started: at };
  if (stage === 'restored') return { set, started: mine?.started ?? at, restored: at };
  return { set, started: mine?.started ?? at, restored: mine?.restored ?? at, completed: at };
}

/** Is this run the continuation of an unfinished recovery of the same set? */
export function resuming(marker: RecoveryMarker | undefined, set: string): boolean {
  return marker !== undefined && marker.set === set && marker.completed === undefined;
}
