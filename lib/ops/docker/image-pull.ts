import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { defineOp, OpFailure, type Decision, type Remote } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { PullProgress, stalled } from './pull-progress.ts';

const schema = z
  .object({
    /** Image references this node may run. */
    images: z.array(z.string().min(1)),
    /** A pull fails once this long has passed without a byte or a layer step (there is no overall limit). */
    stallSeconds: z.number().positive().default(120),
    /** The node's name, for a failure's message. */
    node: z.string().optional(),
    /**
     * Image -> why its pull may fail without failing the op (its registry is
     * deployed later in the same run): the pull is tried, and a failure
     * leaves the image to Swarm's own pull.
     */
    bestEffort: z.record(z.string(), z.string()).default({}),
  })
  .strict();

type Params = z.output<typeof schema>;

export interface PullState {
  /** References this node has no image for. */
  missing: string[];
}

/** What the clock and timers are, so a test can drive the stall verdict. */
export interface PullClock {
  now(): number;
  every(ms: number, fn: () => void): () => void;
}

const realClock: PullClock = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
};

/** The API's fromImage and tag for a reference: its digest when pinned (a tag beside it is dropped), else its tag, else latest. */
export function pullQuery(ref: string): { fromImage: string; tag: string } {
  const at = ref.indexOf('@');
  if (at > 0) {
    const name = ref.slice(0, at);
    const slash = name.lastIndexOf('/');
    const colon = name.lastIndexOf(':');
    return { fromImage: colon > slash ? name.slice(0, colon) : name, tag: ref.slice(at + 1) };
  }
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  // Without a tag the API pulls every tag of the repository; the CLI's default is latest.
  return colon > slash ? { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { fromImage: ref, tag: 'latest' };
}

/** Present or missing, per reference; no Docker yet (check mode before the docker role ran) means all missing. */
function probeCommand(images: string[]): Command {
  const each = images.map((ref) => sh`if docker image inspect --format '{{.Id}}' ${ref} >/dev/null 2>&1; then echo ${`@@present ${ref}`}; else echo ${`@@missing ${ref}`}; fi`);
  return sh`if command -v docker >/dev/null; then ${Command.join(each, '\n')}; else ${Command.join(images.map((ref) => sh`echo ${`@@missing ${ref}`}`), '\n')}; fi`;
}

export function parsePullState(text: string): PullState {
  return { missing: text.split('\n').filter((l) => l.startsWith('@@missing ')).map((l) => l.slice(10).trim()) };
}

/**
 * The pull through the node's Docker socket, the way the swarm join talks to
 * it (lib/ops/docker/swarm.ts): the daemon pulls with no registry credentials,
 * as Swarm's own pull does for a stack deployed without --with-registry-auth.
 * The inner shell prints its pid and becomes curl, so a stalled pull can be
 * ended by that pid from a second command on the same connection; the daemon
 * cancels a pull whose client went away.
 */
export function pullCommand(ref: string): Command {
  const q = pullQuery(ref);
  const url = `http://localhost/images/create?fromImage=${encodeURIComponent(q.fromImage)}&tag=${encodeURIComponent(q.tag)}`;
  return sh`sock=/var/run/docker.sock
case "\${DOCKER_HOST:-}" in unix://*) sock=\${DOCKER_HOST#unix://} ;; esac
sh -c 'echo "@@pid $$"; exec curl -sS --no-buffer --unix-socket "$1" -X POST "$2"' pull "$sock" ${url}`;
}

/**
 * Pulls one image, reading the daemon's progress as it streams: the pull
 * may take as long as it keeps moving, and fails `stallSeconds` after the
 * last progress, naming the node, the image and that progress.
 */
export async function pullWatched(remote: Remote, ref: string, o: { stallSeconds: number; node?: string | undefined; clock?: PullClock; watch?: (p: PullProgress) => void }): Promise<PullProgress> {
  const clock = o.clock ?? realClock;
  const stallMs = o.stallSeconds * 1000;
  const progress = new PullProgress(clock.now());
  let pid: string | undefined;
  let head = '';
  let gaveUp = false;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString('utf8');
      // The pid line comes first; it may arrive split across chunks.
      if (pid === undefined) pid = /^@@pid (\d+)\n/m.exec((head += text))?.[1];
      progress.feed(text, clock.now());
      o.watch?.(progress);
      done();
    },
  });
  const stop = clock.every(Math.min(1000, Math.max(50, stallMs / 4)), () => {
    if (gaveUp || !stalled(progress, clock.now(), stallMs) || pid === undefined) return;
    gaveUp = true;
    // A kill that cannot be sent (the connection lost) ends the stream too: the transport's watchdog ends the remote command.
    remote.run(sh`kill ${pid} 2>/dev/null || true`).catch(() => undefined);
  });
  let r: ExecResult;
  try {
    r = await remote.stream(pullCommand(ref), sink);
  } finally {
    stop();
  }
  progress.end(clock.now());
  const where = `${o.node ? `${o.node}: ` : ''}pulling ${ref}`;
  const last = `last progress: ${progress.lastProgress ?? 'none'}`;
  if (gaveUp) throw new OpFailure(`${where}: no progress for ${o.stallSeconds} s (image_pull_stall_seconds); ${last}`, r);
  if (progress.error) throw new OpFailure(`${where} failed: ${progress.error} (${last})`, r);
  if (r.code !== 0) throw new OpFailure(`${where} failed: ${r.stderr.toString('utf8').trim() || `exit ${r.code}`} (${last})`, r);
  if (!progress.done) throw new OpFailure(`${where}: the daemon's stream ended before the image was there (${last})`, r);
  return progress;
}

export interface PullResult {
  pulled: string[];
  /** Best-effort pulls that failed, each with its failure: Swarm pulls them itself. */
  leftToSwarm: string[];
}

/**
 * The images a node will run, pulled before a deploy asks Swarm to start
 * them, so Swarm's convergence wait no longer includes a pull of unknown
 * length. An image already on the node (by tag or digest) is ok without
 * contacting its registry; check mode lists what would be pulled. Images are
 * pulled one after another on a node (they share its link); nodes pull in
 * parallel.
 */
export const imagePull = defineOp({
  kind: 'docker.imagePull',
  schema,
  describe: (p) => `images ${p.images.join(', ') || '(none)'}`,
  probe: (p) => ({ command: p.images.length ? probeCommand(p.images) : sh`true`, parse: (r: ExecResult) => parsePullState(r.stdout.toString('utf8')) }),
  decide: (p: Params, s: PullState): Decision<PullResult> => {
    if (p.images.length === 0) return { kind: 'skip', reason: 'this node runs no service of these stacks' };
    if (s.missing.length === 0) return { kind: 'ok', result: { pulled: [], leftToSwarm: [] }, msg: `present: ${p.images.join(', ')}` };
    const note = (ref: string) => (p.bestEffort[ref] ? ` (tried: ${p.bestEffort[ref]})` : '');
    return {
      kind: 'change',
      msg: `pull ${s.missing.map((ref) => ref + note(ref)).join(', ')}`,
      diff: { kind: 'summary', lines: s.missing.map((ref) => `+ ${ref} (pull)${note(ref)}`) },
      apply: async (remote) => {
        const result: PullResult = { pulled: [], leftToSwarm: [] };
        for (const ref of s.missing) {
          try {
            await pullWatched(remote, ref, { stallSeconds: p.stallSeconds, node: p.node });
            result.pulled.push(ref);
          } catch (err) {
            if (!(err instanceof OpFailure) || !p.bestEffort[ref]) throw err;
            result.leftToSwarm.push(`${err.message}; left to Swarm: ${p.bestEffort[ref]}`);
          }
        }
        return result;
      },
      checkResult: { pulled: s.missing, leftToSwarm: [] },
    };
  },
});
