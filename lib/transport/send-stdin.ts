import type { EventEmitter } from 'node:events';
import { stdinChunks, type StdinPart } from '../shell/stdin-source.ts';

/** The part of a channel or pipe that stdin is written to. */
export interface StdinSink extends EventEmitter {
  write(chunk: Buffer): boolean;
}

/**
 * Writes a command's stdin parts in order, waiting for 'drain' whenever the
 * sink is full, so a file part is held in memory a chunk at a time whatever
 * its size; then `end` (the wrapper's end mark), if any. Does not end the
 * sink. Stops quietly when the sink closes first (the command ended without
 * reading all of it: its exit status tells); rejects, naming the file, when
 * a source fails.
 */
export async function sendStdin(sink: StdinSink, parts: readonly StdinPart[], end?: Buffer): Promise<void> {
  let closed = false;
  let wake: (() => void) | undefined;
  const onClose = () => {
    closed = true;
    wake?.();
  };
  const onDrain = () => wake?.();
  sink.on('close', onClose);
  sink.on('drain', onDrain);
  try {
    for await (const chunk of end ? withEnd(parts, end) : stdinChunks(parts)) {
      if (closed) return;
      if (!sink.write(chunk)) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
  } finally {
    sink.off('close', onClose);
    sink.off('drain', onDrain);
  }
}

async function* withEnd(parts: readonly StdinPart[], end: Buffer): AsyncGenerator<Buffer> {
  yield* stdinChunks(parts);
  yield end;
}
