import { formatLocation, userFrame } from '../shell/location.ts';
import { ExitCode, RiggerError } from '../shell/errors.ts';
import { redact, SecretAsTextError } from '../shell/secret.ts';
import { exitWhenFlushed } from './exit.ts';

/** -vvv on the command line, read before the flags are parsed (an import can fail first). */
function stackWanted(argv: readonly string[]): boolean {
  const vs = argv.filter((a) => /^-v+$/.test(a)).reduce((n, a) => n + a.length - 1, 0) + argv.filter((a) => a === '--verbose').length;
  return vs >= 3 || Boolean(process.env.RIGGER_DEBUG);
}

/**
 * One line for an error rigger did not raise itself (a playbook's own
 * throw): the user's file:line where it was thrown, then the message. The
 * stack only at -vvv. rigger's own errors already say where.
 */
export function describeThrown(err: unknown, argv: readonly string[] = process.argv.slice(2)): string {
  if (err instanceof RiggerError || err instanceof SecretAsTextError) return redact(err.message);
  const e = err instanceof Error ? err : new Error(String(err));
  const where = userFrame(e.stack ?? '');
  const line = `${where ? `${formatLocation(where)}: ` : ''}${e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  return redact(stackWanted(argv) && e.stack ? `${line}\n${e.stack}` : line);
}

/**
 * A playbook that throws while it is imported (a role file with a typo, a
 * top-level await that rejects) never reaches runPlaybook: without this,
 * Node prints its raw stack and exits 1, which is no documented code. Such
 * a failure is an input error: exit 4.
 */
function onLoadError(err: unknown): void {
  // Someone else handles uncaught errors (node:test in a test file that imports rigger): theirs to report.
  if (process.listenerCount('uncaughtException') > 1) return;
  const code = err instanceof RiggerError ? err.exitCode : ExitCode.usage;
  process.stderr.write(`rigger: the playbook failed while loading: ${describeThrown(err)}\n`);
  void exitWhenFlushed(code);
}

process.on('uncaughtException', onLoadError);

/** runPlaybook has started: from here on, failures are reported by the run itself. */
export function loaded(): void {
  process.off('uncaughtException', onLoadError);
}
