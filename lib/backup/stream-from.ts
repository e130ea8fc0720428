import { PassThrough } from 'node:stream';
import type { Command } from '../shell/command.ts';
import { StreamStdin } from '../shell/stdin-source.ts';
import type { Remote } from '../model/op.ts';

/** The source's output waits here while the destination is slower: the source's channel pauses past it. */
const HIGH_WATER = 1024 * 1024;

/**
 * A command's stdout on another host (`source`, from Remote.onHost) as the
 * standard input of a command here, through the controller: the source
 * runs when the transport starts sending, and its channel pauses whenever
 * the destination is not reading (backpressure end to end; the controller
 * holds about HIGH_WATER bytes). `size` is the exact byte count the source
 * will write: the transport frames stdin by length. The source failing
 * (connection lost, a non-zero exit, fewer or more bytes) throws inside the
 * transport's sender, which cuts the destination's command: it never sees
 * a short input as a whole one.
 */
export function streamFrom(source: Remote, command: Command, size: number, key: string): StreamStdin {
  return new StreamStdin(size, () => pull(source, command, key), key);
}

async function* pull(source: Remote, command: Command, what: string): AsyncGenerator<Buffer> {
  const pipe = new PassThrough({ highWaterMark: HIGH_WATER });
  pipe.on('error', () => undefined);
  let failure: unknown;
  const done = source.stream(command, pipe).then(
    (r) => {
      pipe.end();
      return r;
    },
    (e: unknown) => {
      failure = e;
      pipe.end();
      return undefined;
    },
  );
  let complete = false;
  try {
    for (;;) {
      const chunk = pipe.read() as Buffer | null;
      if (chunk !== null) {
        yield chunk;
        continue;
      }
      if (pipe.readableEnded) break;
      await new Promise<void>((resolve) => {
        const go = () => {
          pipe.off('readable', go);
          pipe.off('end', go);
          resolve();
        };
        pipe.on('readable', go);
        pipe.on('end', go);
      });
    }
    const r = await done;
    if (failure !== undefined || !r) throw new Error(`${what}: ${failure instanceof Error ? failure.message : String(failure)}`);
    if (r.code !== 0) {
      const tail = r.stderr.toString('utf8').trim().split('\n').slice(-4).join('\n');
      throw new Error(`${what} exited ${r.code}${tail ? `: ${tail}` : ''}`);
    }
    complete = true;
  } finally {
    // The destination stopped early (it failed): the rest is read and dropped,
    // so the source is never left paused on a full channel; it ends on its own.
    if (!complete) pipe.on('data', () => undefined);
  }
}
