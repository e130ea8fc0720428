import type { OpStatus } from '../model/op.ts';
import type { Encoded } from './result-codec.ts';
import type { Fingerprints } from './fingerprints.ts';
import type { TaskIdentity } from './task-identity.ts';

/**
 * The run record, `.rigger/runs/RUN_ID/run.json` (docs/plans-and-resume.md, "Resume").
 * `version` changes whenever a field changes meaning; a rigger reads only
 * its own version and says so for any other, rather than resume from a
 * record it would misread.
 */
export const RECORD_FORMAT = 'rigger-run-record';
export const RECORD_VERSION = 1;

/** A task or handler as a record names it; the ordinal is re-read from the playbook when resuming. */
export type RecordedTask = Pick<TaskIdentity, 'play' | 'path' | 'name'> & { ordinal: number };

/** A registered result: its value, or `withheld`: a secret was in it (never written), or it was too large (result-codec.ts). */
export interface RecordedResult {
  task: RecordedTask;
  status: OpStatus;
  msg?: string;
  value?: Encoded;
  withheld?: 'secret' | 'size';
}

/** running: the run ended (or was killed) before this host finished. */
export type HostState = 'running' | 'ok' | 'failed' | 'unreachable';

export interface HostRecord {
  status: HostState;
  /** The last task the host finished, whatever its status. */
  done?: RecordedTask;
  /** Where a failed or unreachable host stopped: the task that failed and was not ignored, or that could not reach it. */
  stoppedAt?: RecordedTask;
  /** Handlers notified and not run yet (a failed host's are not run, unless the play forces handlers). */
  pendingHandlers: RecordedTask[];
  results: RecordedResult[];
}

export interface RunRecord {
  format: typeof RECORD_FORMAT;
  version: typeof RECORD_VERSION;
  id: string;
  /** The playbook script, relative to the working directory (the run-start event's). */
  playbook: string;
  inventory: string[];
  /** --limit as given (a resume may be given a narrower one). */
  limit?: string;
  startedAt: string;
  endedAt?: string;
  /** running: the controller has not finished (still going, or it was killed). */
  state: 'running' | 'finished' | 'interrupted';
  /** The controller's pid: while it lives and the state is running, the run goes on and --resume leaves the record alone. */
  pid?: number;
  /** The run this one resumed. */
  resumedFrom?: string;
  fingerprints: Fingerprints;
  hosts: Record<string, HostRecord>;
}

export class RecordFormatError extends Error {}

/** Parses run.json; refuses another format, or another version, with what it found. */
export function parseRecord(text: string, where: string): RunRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RecordFormatError(`${where}: not a run record (${(err as Error).message})`);
  }
  const r = data as Partial<RunRecord> | null;
  if (!r || typeof r !== 'object' || r.format !== RECORD_FORMAT) throw new RecordFormatError(`${where}: not a run record (no "format": "${RECORD_FORMAT}")`);
  const version = r.version as unknown;
  if (typeof version !== 'number' || !Number.isInteger(version)) throw new RecordFormatError(`${where}: run record without a version number`);
  if (version > RECORD_VERSION) {
    throw new RecordFormatError(`${where}: run record format version ${version} was written by a newer rigger; this one reads version ${RECORD_VERSION}: resume with the rigger that made it`);
  }
  if (version < RECORD_VERSION) {
    throw new RecordFormatError(`${where}: run record format version ${version} is older than this rigger reads (version ${RECORD_VERSION}): resume with the rigger that made it, or run the playbook again`);
  }
  if (typeof r.id !== 'string' || typeof r.playbook !== 'string' || !Array.isArray(r.inventory) || !r.hosts || typeof r.hosts !== 'object' || !r.fingerprints) {
    throw new RecordFormatError(`${where}: run record version ${version} lacks id, playbook, inventory, hosts or fingerprints`);
  }
  return r as RunRecord;
}

export function serializeRecord(record: RunRecord): string {
  // One line: written again and again during a run; `jq .` shows it indented.
  return JSON.stringify(record) + '\n';
}

/** Hosts a resume runs again: those that failed, were unreachable, or had not finished. */
export function unfinishedHosts(record: RunRecord): string[] {
  return Object.entries(record.hosts)
    .filter(([, h]) => h.status !== 'ok')
    .map(([name]) => name);
}
