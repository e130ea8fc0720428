import { sh } from '../../../shell/command.ts';
import type { Remote } from '../../../model/op.ts';

export interface Heartbeat {
  /** What went wrong with the lock while the run held it (the first trouble), if anything. */
  trouble(): string | undefined;
  /** Stops beating, after the beat in flight (so none touches the lock after its release). */
  stop(): Promise<void>;
}

/**
 * A holder's heartbeat: every `everyMs` it touches its lock, if the lock is
 * still its own. A beat that finds another owner (this run was presumed dead
 * and its lock taken over) or no lock, or that cannot run at all, is
 * remembered (`describeOwner` words the owner found): the lock no longer protects this run, which its caller must
 * say, rather than the run ending green as if it had.
 */
export function startHeartbeat(remote: Remote, lockDir: string, owner: string, everyMs: number, describeOwner: (text: string) => string): Heartbeat {
  let trouble: string | undefined;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const beat = async () => {
    const at = new Date().toISOString();
    try {
      const r = await remote.run(sh`now=$(cat ${`${lockDir}/owner`} 2>/dev/null) || now=
if [ "$now" != ${owner} ]; then printf '%s' "$now"; exit 3; fi
touch ${`${lockDir}/owner`}`);
      const now = r.stdout.toString('utf8').trim();
      if (r.code === 3) trouble ??= `at ${at} the deploy lock ${lockDir} was no longer this run's (now: ${now ? describeOwner(now) : 'removed'})`;
      else if (r.code !== 0) trouble ??= `at ${at} the deploy lock's heartbeat failed (exit ${r.code}): ${r.stderr.toString('utf8').trim()}`;
      // Someone else's lock is never touched again; a failed touch is retried, the lock may still be ours.
      if (r.code === 3) stopped = true;
    } catch (err) {
      trouble ??= `at ${at} the deploy lock's heartbeat failed: ${(err as Error).message}`;
    }
  };
  const next = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = beat().then(next);
    }, everyMs);
    timer.unref();
  };
  next();
  return {
    trouble: () => trouble,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
