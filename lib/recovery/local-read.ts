import { spawn, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { sh } from '../shell/command.ts';
import type { Remote } from '../model/op.ts';
import { localTaskEnv } from '../transport/local-env.ts';

let pgRestoreVersion: string | null | undefined;

/** Whether this machine has a pg_restore to read dumps with, and which (asked once per run). */
export function localPgRestore(): string | undefined {
  if (pgRestoreVersion === undefined) {
    const r = spawnSync('pg_restore', ['--version'], { encoding: 'utf8', env: localTaskEnv() });
    pgRestoreVersion = r.status === 0 ? r.stdout.trim() : null;
  }
  return pgRestoreVersion ?? undefined;
}

/**
 * A full read of a dump on the backup host by this machine's pg_restore,
 * streamed over SSH (never held in memory): how a recovery verifies the
 * dumps before anything changes, when the host has no Docker yet to run
 * pg_restore in a container.
 */
export async function readDumpLocally(remote: Remote, file: string): Promise<{ ok: boolean; detail: string }> {
  const version = localPgRestore();
  if (!version) return { ok: false, detail: 'no Docker on the backup host and no pg_restore on this machine to read the dump before anything changes (install postgresql-client)' };
  // A program of this machine like a local task: it gets no rigger secret variable (the vault passphrase).
  const child = spawn('pg_restore', ['-f', '/dev/null'], { stdio: ['pipe', 'ignore', 'pipe'], env: localTaskEnv() });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  // A pg_restore that stops early must not stall the SSH channel: the rest is drained and dropped.
  const pipe = new PassThrough();
  pipe.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  child.on('close', () => {
    pipe.unpipe(child.stdin);
    pipe.resume();
  });
  const r = await remote.stream(sh`cat -- ${file}`, pipe);
  pipe.end();
  const code = await exited;
  if (r.code !== 0) return { ok: false, detail: `cannot read ${file}: ${r.stderr.toString('utf8').trim()}` };
  if (code !== 0) return { ok: false, detail: `sha256 matches but ${version} could not read the dump in full: ${stderr.trim().split('\n').slice(-2).join(' ')}` };
  return { ok: true, detail: `sha256 matches; full read by ${version} on the controller` };
}
