import type { Command } from '../shell/command.ts';

// The op contract (op.ts) declares a probe's path read, and the runner
// (runner/path-batch.ts) joins those reads: the shape lives here, in the
// model, so the op contract does not import the runner above it.

/** What a path probe reads, declared next to its command so the batch can join it. */
export interface PathRead {
  /** Shell that sets $p (builtins, or readlink -f for follow), printing nothing. */
  resolve: Command;
  /** Bytes the probe prints before anything else (copy's empty remote-source line). */
  leading: string;
  /** The probe prints the resolved path on a line of its own before the state. */
  echoPath: boolean;
  /** Read a regular file's bytes when its size is at most this (0: never). */
  limit: number;
  /** ...and its checksum is not this one (64 hex digits, or undefined). */
  unless?: string | undefined;
}
