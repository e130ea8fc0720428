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

export class RunStore {
  constructor(readonly root = RUNS_DIR) {}

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
  write(record: RunRecord, durable = true): void {
    const file = this.fileOf(record.id);
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, serializeRecord(record));
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }

  read(id: string): RunRecord {
    const file = this.fileOf(id);
    if (!existsSync(file)) throw new RecordFormatError(`no run record ${id} (looked for ${file})`);
    return parseRecord(readFileSync(file, 'utf8'), file);
  }

  /** Every readable record, newest first; one this rigger cannot read is passed by. */
  list(): RunRecord[] {
    if (!existsSync(this.root)) return [];
    const ids = readdirSync(this.root).filter(looksLikeRunId).sort().reverse();
    return ids.flatMap((id) => {
      try {
        return [this.read(id)];
      } catch {
        return [];
      }
    });
  }

  /**
   * The newest record of this playbook and inventory. A run that finished
   * every host (a resume that succeeded among them) means there is nothing
   * left to resume, as a new run overwrites Ansible's retry file.
   */
  last(playbook: string, inventory: string[]): RunRecord | undefined {
    return this.list().find((r) => r.playbook === playbook && sameList(r.inventory, inventory));
  }

  /** Removes this playbook's records beyond the newest `keep` (the one being written counts). */
  prune(playbook: string, keep = KEEP_PER_PLAYBOOK): string[] {
    const old = this.list()
      .filter((r) => r.playbook === playbook)
      .slice(keep);
    for (const r of old) rmSync(path.dirname(this.fileOf(r.id)), { recursive: true, force: true });
    return old.map((r) => r.id);
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
