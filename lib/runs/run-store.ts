import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseRecord, RecordFormatError, serializeRecord, type RunRecord } from './record-format.ts';

/** Where records live, relative to the working directory, as Terraform's and Ansible's state sits beside the project. */
export const RUNS_DIR = path.join('.rigger', 'runs');
/** Records kept per playbook: the oldest beyond these are removed when a run of it starts. */
export const KEEP_PER_PLAYBOOK = 20;
const RECORD_FILE = 'run.json';
const ID_SHAPE = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

/** A run's id: its start time to the millisecond (ids sort as runs started) and a random tail, so two runs at once differ. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function looksLikeRunId(s: string): boolean {
  return ID_SHAPE.test(s);
}

/** The directory records go to: RIGGER_RUNS_DIR (a scheduled job's /var/lib/rigger/PROGRAM/runs), else .rigger/runs. */
export function runsDir(): string {
  return process.env.RIGGER_RUNS_DIR || RUNS_DIR;
}

export class RunStore {
  constructor(readonly root = runsDir()) {}

  fileOf(id: string): string {
    return path.join(this.root, id, RECORD_FILE);
  }

  /**
   * Writes the record whole to a temp file beside it, then renames it over
   * the old one: a controller killed at any moment leaves the previous
   * record or the new one, never a torn file. `durable` also flushes it to
   * disk first (against a power loss), which costs a disk round trip: the
   * run's last write does, not the one after every task.
   */
  /** Returns the bytes written. */
  write(record: RunRecord, durable = true): number {
    const file = this.fileOf(record.id);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    const text = serializeRecord(record);
    try {
      writeSync(fd, text);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    // The rename is durable only once the directory that holds the name is flushed too.
    if (durable) syncDir(path.dirname(file));
    return Buffer.byteLength(text);
  }

  /**
   * The pid of the controller still running this record's run: a record
   * whose run has not ended names its controller's pid (it is the lock:
   * nothing else to clean up after a kill), and counts as going on while
   * that process lives. A killed controller's record is stale, and free.
   */
  runningPid(id: string): number | undefined {
    const r = this.read(id);
    return r.state === 'running' && r.pid !== undefined && alive(r.pid) ? r.pid : undefined;
  }

  read(id: string): RunRecord {
    const file = this.fileOf(id);
    if (!existsSync(file)) throw new RecordFormatError(`no run record ${id} (looked for ${file})`);
    return parseRecord(readFileSync(file, 'utf8'), file);
  }

  /** Every record, newest first: those this rigger reads, and those it cannot (another version, a damaged file) with why. */
  scan(): { records: RunRecord[]; unreadable: { id: string; why: string }[] } {
    const records: RunRecord[] = [];
    const unreadable: { id: string; why: string }[] = [];
    if (!existsSync(this.root)) return { records, unreadable };
    for (const id of readdirSync(this.root).filter(looksLikeRunId).sort().reverse()) {
      try {
        records.push(this.read(id));
      } catch (err) {
        unreadable.push({ id, why: (err as Error).message });
      }
    }
    return { records, unreadable };
  }

  /** Every readable record, newest first. */
  list(): RunRecord[] {
    return this.scan().records;
  }

  /**
   * The newest record of this playbook and inventory. A run that finished
   * every host (a resume that succeeded among them) means there is nothing
   * left to resume, as a new run overwrites Ansible's retry file. A newer
   * record this rigger cannot read may be the last run of this playbook:
   * taking an older one would resume the wrong run, so that is refused,
   * naming it (a RUN_ID says which run is meant).
   */
  last(playbook: string, inventory: string[]): RunRecord | undefined {
    const { records, unreadable } = this.scan();
    const found = records.find((r) => r.playbook === playbook && sameList(r.inventory, inventory));
    const newer = unreadable.filter((u) => !found || u.id > found.id);
    if (newer.length > 0) {
      throw new RecordFormatError(
        `${newer.map((u) => u.why).join('; ')}: it may be the last run of ${playbook}, so --resume does not take ${found ? `the older run ${found.id}` : 'an older run'}; pass --resume RUN_ID to say which run to resume`,
      );
    }
    return found;
  }

  /**
   * Removes this playbook's records beyond the newest `keep` (the one being
   * written counts), and the records no one can read beyond the newest
   * `keep` of them: the directory stays bounded either way.
   */
  prune(playbook: string, keep = KEEP_PER_PLAYBOOK): string[] {
    const { records, unreadable } = this.scan();
    const old = [...records.filter((r) => r.playbook === playbook).slice(keep).map((r) => r.id), ...unreadable.slice(keep).map((u) => u.id)];
    for (const id of old) rmSync(path.join(this.root, id), { recursive: true, force: true });
    return old;
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists, owned by another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
