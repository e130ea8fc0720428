/**
 * The deploy runs of this controller that hold a deploy lock: one file per
 * run id, holding the run's pid, in a directory only this user can write.
 * A lock's holder is this controller's (so its pid can be judged here) only
 * when its run id is found in it: a host name is shared by containers and
 * CI runners, whose pids mean nothing on this machine.
 */
import { lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const defaultRunsDir = () => path.join(tmpdir(), `rigger-deploy-runs-${process.getuid?.() ?? 'user'}`);

/** A run id as rigger makes them (randomUUID): anything else read from a lock is never a file name here. */
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The directory, when it is ours alone: a directory planted by another user is not trusted (nor written). */
function ownDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * Records that `run` (this process) holds a lock. When that is impossible (no
 * writable temp directory) a dead run of ours is only found stale by its
 * heartbeat, like another controller's: slower, never wrong.
 */
export function noteRun(dir: string, run: string, pid: number): void {
  if (!RUN_ID.test(run) || !ownDir(dir)) return;
  try {
    writeFileSync(path.join(dir, run), `${pid}\n`, { mode: 0o600, flag: 'wx' });
  } catch {
    // see above: only the faster take-over is lost
  }
}

/** The pid of a run of this controller's, or undefined when the run is not ours. */
export function pidOfRun(dir: string, run: string): number | undefined {
  if (!RUN_ID.test(run) || !ownDir(dir)) return undefined;
  try {
    const file = path.join(dir, run);
    const st = lstatSync(file);
    if (!st.isFile() || st.uid !== process.getuid?.()) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function forgetRun(dir: string, run: string): void {
  if (RUN_ID.test(run)) rmSync(path.join(dir, run), { force: true });
}
