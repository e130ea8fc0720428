import { createReadStream, readFileSync } from 'node:fs';
import { Secret } from './secret.ts';

/**
 * A controller file sent as a command's standard input without reading it
 * into memory: the transport streams it in chunks with backpressure, so a
 * copy of a file larger than memory (or than Node's 2 GiB buffer limit)
 * costs the controller a few chunks. `size` is the length the command was
 * built for (the file writer's header frames it); a file that is not that
 * long when it is sent fails the command instead of shifting the frame.
 */
export class FileStdin {
  constructor(
    readonly path: string,
    readonly size: number,
    /** The content's sha256 when known: identifies the part without its bytes (run-ahead's guard key). */
    readonly sha256: string,
  ) {}
}

/**
 * Bytes produced elsewhere while the command runs (another host's command's
 * stdout, pulled through the controller): read only as fast as the command
 * takes them, never held whole. The transport frames stdin by length, so the
 * producer states the exact size up front; a source that ends early, runs
 * long or fails (the iterator throws) fails the command as a cut transfer.
 * `open` is called once, when the transport starts sending.
 */
export class StreamStdin {
  constructor(
    readonly size: number,
    readonly open: () => AsyncIterable<Buffer>,
    /** What identifies the stream without its bytes (run-ahead's guard key): its source and size. */
    readonly key: string,
  ) {}
}

/** Bytes for a command's standard input. Secrets are redacted in every display. */
export type StdinPart = Buffer | string | Secret | FileStdin | StreamStdin;

export function partLength(p: StdinPart): number {
  if (p instanceof FileStdin || p instanceof StreamStdin) return p.size;
  if (p instanceof Secret) return Buffer.byteLength(p.reveal(), 'utf8');
  return typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
}

/** A part held in memory, as bytes. */
function memoryBytes(p: Exclude<StdinPart, FileStdin | StreamStdin>): Buffer {
  return p instanceof Secret ? Buffer.from(p.reveal(), 'utf8') : typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

/**
 * The whole standard input in one buffer: only for small inputs (tests,
 * local checks); transports stream with {@link stdinChunks}.
 */
export function stdinBuffer(parts: readonly StdinPart[]): Buffer {
  return Buffer.concat(
    parts.map((p) => {
      if (p instanceof StreamStdin) throw new Error(`a streamed stdin (${p.key}) cannot be read into memory; the transport streams it`);
      return p instanceof FileStdin ? readExactly(p) : memoryBytes(p);
    }),
  );
}

function readExactly(f: FileStdin): Buffer {
  const b = readFileSync(f.path);
  if (b.length !== f.size) throw sizeChanged(f, b.length);
  return b;
}

const sizeChanged = (f: FileStdin, got: number) =>
  new Error(`${f.path} changed on the controller while it was being sent: ${got} bytes instead of ${f.size}`);

/**
 * The standard input as chunks, a file read 256 KiB at a time: memory stays
 * a few chunks whatever the size. Throws, naming the file, when a file ends
 * early or cannot be read.
 */
export async function* stdinChunks(parts: readonly StdinPart[]): AsyncGenerator<Buffer> {
  for (const p of parts) {
    if (p instanceof StreamStdin) {
      yield* streamExactly(p);
      continue;
    }
    if (!(p instanceof FileStdin)) {
      const b = memoryBytes(p);
      if (b.length > 0) yield b;
      continue;
    }
    if (p.size === 0) continue;
    let sent = 0;
    // end is inclusive: a file that grew is cut at the size the command was built for (its checksum then fails on the host).
    for await (const chunk of createReadStream(p.path, { end: p.size - 1, highWaterMark: 256 * 1024 })) {
      sent += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (sent !== p.size) throw sizeChanged(p, sent);
  }
}

/** A stream's chunks, exactly its stated size: a short or long source throws (the command is then cut, never fed a wrong length). */
async function* streamExactly(p: StreamStdin): AsyncGenerator<Buffer> {
  let sent = 0;
  for await (const chunk of p.open()) {
    if (sent + chunk.length > p.size) throw new Error(`${p.key} sent more than the ${p.size} bytes it announced`);
    sent += chunk.length;
    yield chunk;
  }
  if (sent !== p.size) throw new Error(`${p.key} ended after ${sent} of its ${p.size} bytes`);
}

/** What identifies the input without its bytes for a file (its path, size and checksum) or a stream (its key). */
export function stdinKey(parts: readonly StdinPart[]): Buffer {
  return Buffer.concat(
    parts.map((p) =>
      p instanceof FileStdin ? Buffer.from(`\0file:${p.path}:${p.size}:${p.sha256}\0`) : p instanceof StreamStdin ? Buffer.from(`\0stream:${p.key}:${p.size}\0`) : memoryBytes(p),
    ),
  );
}
