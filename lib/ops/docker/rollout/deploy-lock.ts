/**
 * The deploy lock and the run log on the first manager, shared by every
 * run that changes services: deploy.ts and rollback.ts (health-gated.ts),
 * secret rotation, and stack deploys (site.ts, deploy.ts --stack). The lock
 * is an atomic mkdir with its holder inside (who, what, since when, which
 * process on which controller, and a random run id); the holder touches it
 * while it runs, so a lock whose process is gone (a run this controller
 * recorded by its id: a host name alone is shared by containers and CI
 * runners) or whose heartbeat stopped (a controller that died or lost its
 * connection) is taken over, and said so. A run whose heartbeat failed is
 * told so when it releases the lock.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sh } from '../../../shell/command.ts';
import { OpFailure, type Remote } from '../../../model/op.ts';
import { startHeartbeat } from './lock-heartbeat.ts';
import { defaultRunsDir, forgetRun, noteRun, pidOfRun } from './local-runs.ts';
import type { DeployRecord } from './rollout.ts';

export const DEPLOY_DIR = '/var/lib/rigger/deploys';
export const HISTORY_FILE = `${DEPLOY_DIR}/history.jsonl`;
export const LOCK_DIR = `${DEPLOY_DIR}/lock`;
/** A lock whose holder has not touched it for this long is stale. */
export const LOCK_STALE_SECONDS = 120;
const HEARTBEAT_MS = 20_000;

export interface LockHolder {
  user: string;
  action: string;
  at: string;
  host: string;
  pid: number;
  /** Random per run (absent from an older rigger's locks). */
  run?: string;
}

export interface Held {
  /** The owner file as written (JSON from rigger; any text from elsewhere). */
  text: string;
  holder?: LockHolder;
  /** Seconds since the holder last touched the lock. */
  idleSeconds: number;
}

export function parseHeld(out: string): Held {
  const [first = '', ...rest] = out.split('\n');
  const text = rest.join('\n').trim();
  let holder: LockHolder | undefined;
  try {
    const j = JSON.parse(text) as Partial<LockHolder>;
    if (typeof j.user === 'string' && typeof j.pid === 'number' && typeof j.host === 'string') holder = j as LockHolder;
  } catch {
    // an owner written by hand or by an older rigger: shown as it is, judged by its age alone
  }
  return { text, ...(holder ? { holder } : {}), idleSeconds: Number(first.replace('@@held ', '')) || 0 };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export interface Here {
  /** The pid of a run of this controller's, by its id; undefined for a run of another controller. */
  pidOfRun: (run: string) => number | undefined;
  alive: (pid: number) => boolean;
}

/** Why a held lock may be taken over, or undefined while its holder lives. */
export function staleReason(held: Held, here: Here, staleSeconds = LOCK_STALE_SECONDS): string | undefined {
  const pid = held.holder?.run === undefined ? undefined : here.pidOfRun(held.holder.run);
  if (held.holder && pid !== undefined && !here.alive(pid)) return `its process ${pid} on ${held.holder.host} is gone`;
  if (held.idleSeconds > staleSeconds) return `its holder has not touched it for ${held.idleSeconds} s (stale after ${staleSeconds} s)`;
  return undefined;
}

export const describeHolder = (held: Held) => (held.holder ? `${held.holder.user} ${held.holder.action} since ${held.holder.at}, pid ${held.holder.pid} on ${held.holder.host}` : held.text || 'owner unknown');

/** mkdir the lock; when it is there already: how long since its holder touched it, then the owner file. */
const tryLock = (dir: string, owner: string, expectStale?: string) => {
  const lock = `${dir}/lock`;
  return sh`mkdir -p ${dir}
${expectStale === undefined ? sh`:` : sh`if [ "$(cat ${lock}/owner 2>/dev/null)" = ${expectStale} ] && mv ${lock} ${`${lock}.stale`}.$$ 2>/dev/null; then rm -rf ${`${lock}.stale`}.$$; fi`}
if mkdir ${lock} 2>/dev/null; then printf '%s\n' ${owner} > ${lock}/owner; echo @@taken; exit 0; fi
echo "@@held $(( $(date +%s) - $(stat -c %Y ${lock}/owner 2>/dev/null || stat -c %Y ${lock}) ))"
cat ${lock}/owner 2>/dev/null; true`;
};

export interface LockTaken {
  /** Set when a stale lock was taken over: whose, and why. */
  tookOver?: string;
  /** What went wrong with the heartbeat so far (the lock taken from this run, a failed touch), if anything. */
  heartbeatTrouble: () => string | undefined;
  /** Releases the lock if it is still ours; rejects, naming it, when the heartbeat failed while it was held. */
  release: () => Promise<void>;
}

export interface LockPlace {
  /** The directory holding the lock (DEPLOY_DIR on the first manager; a test's own directory). */
  dir?: string;
  /** How often a holder touches its lock. */
  heartbeatMs?: number;
  /** Where this controller records its runs that hold a lock (local-runs.ts). */
  runs?: string;
}

/** Takes the deploy lock for `who`, or fails naming its holder. */
export async function takeDeployLock(remote: Remote, who: { user: string; action: string }, place: LockPlace = {}): Promise<LockTaken> {
  const dir = place.dir ?? DEPLOY_DIR;
  const lockDir = `${dir}/lock`;
  const runs = place.runs ?? defaultRunsDir();
  const run = randomUUID();
  const owner = JSON.stringify({ user: who.user, action: who.action, at: new Date().toISOString(), host: hostname(), pid: process.pid, run } satisfies LockHolder);
  // Recorded before the lock is taken, so a run killed at any moment after is known here as ours.
  noteRun(runs, run, process.pid);
  let tookOver: string | undefined;
  try {
    let res = await remote.run(tryLock(dir, owner));
    if (res.code === 0 && !res.stdout.toString('utf8').startsWith('@@taken')) {
      const held = parseHeld(res.stdout.toString('utf8'));
      const stale = staleReason(held, { pidOfRun: (r) => pidOfRun(runs, r), alive });
      if (!stale) throw new OpFailure(`another deploy holds the lock ${lockDir} (${describeHolder(held)}); wait for it, or remove the directory if that run is dead`);
      res = await remote.run(tryLock(dir, owner, held.text));
      if (res.code === 0 && !res.stdout.toString('utf8').startsWith('@@taken')) throw new OpFailure(`another deploy took the lock ${lockDir} first (${describeHolder(parseHeld(res.stdout.toString('utf8')))})`);
      tookOver = `took over a stale deploy lock (${describeHolder(held)}): ${stale}`;
      if (held.holder?.run) forgetRun(runs, held.holder.run);
    }
    if (res.code !== 0) throw new OpFailure(`cannot take the deploy lock: ${res.stderr.toString('utf8').trim()}`, res);
  } catch (err) {
    forgetRun(runs, run);
    throw err;
  }
  // The heartbeat: a run that lives keeps its lock fresh, however long a rollout waits.
  const heartbeat = startHeartbeat(remote, lockDir, owner, place.heartbeatMs ?? HEARTBEAT_MS, (text) => describeHolder(parseHeld(`@@held 0\n${text}`)));
  return {
    ...(tookOver ? { tookOver } : {}),
    heartbeatTrouble: heartbeat.trouble,
    release: async () => {
      await heartbeat.stop();
      let releaseFailed: Error | undefined;
      try {
        // Only our own: a lock taken over from us (we were presumed dead) is the new holder's.
        await remote.run(sh`[ "$(cat ${lockDir}/owner 2>/dev/null)" = ${owner} ] && rm -rf ${lockDir}; true`);
      } catch (err) {
        releaseFailed = err as Error;
      } finally {
        forgetRun(runs, run);
      }
      const trouble = heartbeat.trouble();
      // The heartbeat's failure first: a connection that died fails the release too, and would hide it.
      if (trouble) throw new OpFailure(`${trouble}: the lock did not hold while this run changed services, so another run may have changed services meanwhile (deploy.ts --history)${releaseFailed ? `; releasing it failed too: ${releaseFailed.message}` : ''}`);
      if (releaseFailed) throw releaseFailed;
    },
  };
}

/**
 * Runs `body` under the deploy lock. A failed heartbeat fails the run (the
 * body's own failure, if any, keeps its message, with the heartbeat's after it).
 */
export async function withDeployLock<T>(remote: Remote, who: { user: string; action: string }, body: (lock: LockTaken) => Promise<T>, place: LockPlace = {}): Promise<T> {
  const lock = await takeDeployLock(remote, who, place);
  let result: T;
  try {
    result = await body(lock);
  } catch (err) {
    await lock.release().catch((trouble: Error) => {
      if (err instanceof Error) err.message += `\n${trouble.message}`;
    });
    throw err;
  }
  await lock.release();
  return result;
}

/** The run log's note about the lock: a take-over, and a heartbeat that failed before the line was written. */
export function lockNote(lock: LockTaken): { note?: string } {
  const note = [lock.tookOver, lock.heartbeatTrouble()].filter(Boolean).join('; ');
  return note ? { note } : {};
}

/** One line of the run log: who changed what, when, and how it ended (`deploy.ts --history`). */
export async function recordRun(remote: Remote, entry: Omit<DeployRecord, 'at'>): Promise<void> {
  const line: DeployRecord = { at: new Date().toISOString(), ...entry };
  await remote.check(sh`mkdir -p ${DEPLOY_DIR} && printf '%s\n' ${JSON.stringify(line)} >> ${HISTORY_FILE}`);
}
