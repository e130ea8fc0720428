import type { Command } from '../shell/command.ts';
import type { Secret } from '../shell/secret.ts';

export interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  /** Exit status; 128+n when the remote command died of signal n. */
  code: number;
  durationMs: number;
}

export interface Become {
  user: string;
  /** Only when sudo needs one; sent on stdin after sudo's prompt is seen. */
  password?: Secret;
}

export interface ExecOptions {
  become?: Become;
  /** Live output, for -v streaming; the full output is still in the result. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /**
   * Stdout goes here instead of into the result, with backpressure (the
   * channel pauses while the sink is full): for artefacts larger than memory.
   * The sink is not ended.
   */
  stdoutTo?: NodeJS.WritableStream;
}

/**
 * Moves bytes to and from one host. Knows nothing about ops or tasks.
 * One instance per host for the whole run.
 */
export interface Transport {
  readonly host: string;
  exec(command: Command, options?: ExecOptions): Promise<ExecResult>;
  /** How long setting up the connection took (retries included), once it is up; --profile reads it. */
  readonly connectMs?: number | undefined;
  /** Starts connecting before the first command needs it; a failure is that command's. */
  connectEarly?(): void;
  /** Closing ends every running remote command (see wrapper.ts). */
  close(): Promise<void>;
  /**
   * The second Ctrl-C: end at once, synchronously, what close() may not have
   * ended (a local command that ignores TERM), as the process exits next.
   * Over SSH the connection dropping with the process is enough.
   */
  abort?(): void;
}
