/**
 * Ends the process once everything written to stdout and stderr has left it.
 * When stdout is a pipe or socket read by another program (child_process,
 * a CI log collector), Node writes asynchronously and `process.exit()` drops
 * whatever is still queued: a 2,000-line --list-hosts lost its tail. An empty
 * write's callback runs after every earlier write on that stream is done.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map(flushed));
  process.exit(code);
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  // An error (the reader went away) also ends the wait: there is no one left to flush to.
  return new Promise((resolve) => stream.write('', () => resolve()));
}
