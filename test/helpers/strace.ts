// Reading `strace -f -e trace=execve -o FILE` logs: which programs were started.
// One reader for the tests and the benchmark that count remote programs
// (put-files, path-batch, scripts/bench/remote-cost.ts), so they count alike.

/** strace's options for a log of every execve of a process and its children (add `-o FILE` and the command or `-p PID`). */
export const EXECVE_TRACE = ['-f', '-qq', '-e', 'trace=execve'];

/**
 * The programs a log shows started (execve returned 0), in log order, each by
 * its file's base name. Concurrent processes (a pipeline) split one call over
 * two lines, `execve("/bin/x", ... <unfinished ...>` then `<... execve resumed>) = 0`:
 * counted once, on the resumed line. A resumed call whose start the log does
 * not hold (strace attached mid-call) counts with the name ''.
 */
export function programsStarted(log: string): string[] {
  const started: string[] = [];
  const unfinished = new Map<string, string>();
  for (const line of log.split('\n')) {
    const pid = line.split(' ')[0]!;
    const program = /execve\("(?:[^"]*\/)?([^/"]+)"/.exec(line)?.[1];
    if (program !== undefined && line.endsWith('<unfinished ...>')) unfinished.set(pid, program);
    else if (program !== undefined && / = 0$/.test(line)) started.push(program);
    else if (/<\.\.\. execve resumed>.* = 0$/.test(line)) {
      started.push(unfinished.get(pid) ?? '');
      unfinished.delete(pid);
    }
  }
  return started;
}
