import type { Command } from '../shell/command.ts';
import type { ExecResult } from '../transport/types.ts';

/**
 * A read-only probe of a host: a shell command plus a pure parser. Facts are
 * gathered lazily, only when a task asks for one, and batched with the
 * probes of the tasks around it.
 */
export interface Fact<F> {
  readonly name: string;
  readonly command: Command;
  parse(result: ExecResult): F;
}

export function defineFact<F>(name: string, command: Command, parse: (r: ExecResult) => F): Fact<F> {
  return { name, command, parse };
}
