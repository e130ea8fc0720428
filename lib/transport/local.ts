import { spawn } from 'node:child_process';
import type { Command } from '../shell/command.ts';
import { localCommand } from './local-become.ts';
import { localTaskEnv } from './local-env.ts';
import { sendStdin } from './send-stdin.ts';
import type { ExecOptions, ExecResult, Transport } from './types.ts';

/**
 * Runs commands on the controller itself, for `localhost` with
 * ansible_connection=local. The script goes through fd 3 rather than argv so
 * that bytes which are not UTF-8 reach sh unchanged (Node's argv is UTF-8).
 * Each command gets its own process group so close() can end it whole.
 * Become switches user (local-become.ts); the command's environment is the
 * controller's without rigger's secrets (local-env.ts).
 */
export class LocalTransport implements Transport {
  readonly #running = new Set<number>();
  constructor(readonly host: string) {}

  exec(command: Command, options: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    const script = command.bytes;
    // Node's stdio "pipes" are socketpairs, which /dev/fd/N cannot open, so
    // the script is read with cat and eval'd; it cannot contain NUL anyway.
    const argv = ['-c', 's=$(cat <&3); exec 3<&-; eval "$s"'];
    const { file, args, env } = localCommand(argv, options.become, localTaskEnv());
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true, env });
      if (child.pid) this.#running.add(child.pid);
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      const sink = options.stdoutTo;
      child.stdout!.on('data', (c: Buffer) => {
        if (sink) {
          if (!sink.write(c)) {
            child.stdout!.pause();
            sink.once('drain', () => child.stdout!.resume());
          }
          return;
        }
        out.push(c);
        options.onStdout?.(c);
      });
      child.stderr!.on('data', (c: Buffer) => {
        errOut.push(c);
        options.onStderr?.(c);
      });
      const scriptPipe = child.stdio[3] as NodeJS.WritableStream;
      scriptPipe.on('error', () => undefined);
      child.stdin!.on('error', () => undefined);
      scriptPipe.end(script);
      // Streamed with backpressure (a file part a chunk at a time). A source
      // that fails kills the command before it sees EOF: a short input must
      // not be taken for a whole one.
      let sendFailed: Error | undefined;
      sendStdin(child.stdin!, command.stdin).then(
        () => child.stdin!.end(),
        (e: unknown) => {
          sendFailed = e instanceof Error ? e : new Error(String(e));
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        },
      );
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (child.pid) this.#running.delete(child.pid);
        if (sendFailed) {
          reject(sendFailed);
          return;
        }
        resolve({
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(errOut),
          code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15),
          durationMs: performance.now() - started,
        });
      });
    });
  }

  async close(): Promise<void> {
    this.#signalAll('SIGTERM');
  }

  /** A command that ignored close()'s TERM must not outlive the controller: its group is in no one else's care. */
  abort(): void {
    this.#signalAll('SIGKILL');
  }

  #signalAll(signal: NodeJS.Signals): void {
    for (const pid of this.#running) {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    }
  }
}
