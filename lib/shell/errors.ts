import { formatLocation, type SourceLocation } from './location.ts';

/** Documented process exit codes; docs/cli.md "Exit codes" must match. */
export const ExitCode = {
  ok: 0,
  taskFailed: 2,
  unreachable: 3,
  usage: 4,
  interrupted: 130,
} as const;

export class RiggerError extends Error {
  readonly exitCode: number = ExitCode.usage;
}

/**
 * Bad input from something the user wrote (inventory, playbook, flags).
 * Always raised before any host is contacted.
 */
export class InputError extends RiggerError {
  override readonly exitCode = ExitCode.usage;
  constructor(
    readonly where: SourceLocation | string | undefined,
    readonly detail: string,
  ) {
    super(`${InputError.prefix(where)}${detail}`);
    this.name = 'InputError';
  }
  private static prefix(where: SourceLocation | string | undefined): string {
    if (!where) return '';
    return typeof where === 'string' ? `${where}: ` : `${formatLocation(where)}: `;
  }
}

/** The host could not be reached or the connection died: the host leaves the run. */
export class UnreachableError extends RiggerError {
  override readonly exitCode = ExitCode.unreachable;
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(`${host}: ${message}`);
    this.name = 'UnreachableError';
  }
}

/** A host key that does not match known_hosts, or is unknown in strict mode. */
export class HostKeyError extends UnreachableError {
  constructor(host: string, message: string) {
    super(host, message);
    this.name = 'HostKeyError';
  }
}

/** The run was interrupted by SIGINT/SIGTERM. */
export class InterruptedError extends RiggerError {
  override readonly exitCode = ExitCode.interrupted;
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

/**
 * Reading a registered result that a resumed run's record did not keep (a
 * secret was in it, or it was too large). A task that can do without it (a
 * swarm join on a node already in the swarm) catches this; any other fails
 * with its message.
 */
export class WithheldResultError extends Error {
  override name = 'WithheldResultError';
}
