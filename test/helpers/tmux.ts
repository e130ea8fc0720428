import { spawnSync } from 'node:child_process';

/**
 * Runs a command in a detached tmux session of a set size (a real terminal
 * for the program: a pty with that many columns) and returns what the pane
 * shows once it ends, its scrollback included.
 */
export function inTerminal(command: string, opts: { columns: number; rows?: number; env?: Record<string, string>; timeoutMs?: number }): string {
  const socket = `rigger-test-${process.pid}-${Date.now()}`;
  const tmux = (args: string[], timeout = 30_000) => {
    const r = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', timeout, env: { ...process.env, ...opts.env } });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed (${r.status}): ${r.stderr}${r.error ?? ''}`);
    return r.stdout;
  };
  try {
    // The pane stays open after the command so its screen can be read; wait-for signals the end.
    tmux(['new-session', '-d', '-x', String(opts.columns), '-y', String(opts.rows ?? 50), '-s', 'run', `${command}; tmux -L ${socket} wait-for -S done; sleep 600`]);
    tmux(['wait-for', 'done'], opts.timeoutMs ?? 300_000);
    return tmux(['capture-pane', '-p', '-S', '-', '-t', 'run']);
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  }
}
