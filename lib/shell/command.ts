import { quote } from './quote.ts';
import { redact, Secret } from './secret.ts';
import { partLength, stdinBuffer, type StdinPart } from './stdin-source.ts';

export { FileStdin, type StdinPart } from './stdin-source.ts';

/** Text inserted into a command without quoting: shell syntax the caller owns. */
export class Raw {
  constructor(readonly text: string) {}
}

export type Interpolation =
  | string
  | number
  | bigint
  | Buffer
  | Raw
  | Command
  | readonly (string | number | Buffer)[];

/**
 * A shell function a command calls (the file writer, lib/ops/files/put-files.ts).
 * Its definition goes once at the top of the script that reaches the host,
 * however many joined or batched commands call it: the transport has no
 * persistent shell (each round trip is its own `sh -c`), and the script is
 * one argv string, which Linux caps at 128 KiB.
 */
export class ShellFunction {
  constructor(
    readonly name: string,
    readonly definition: string,
  ) {}
}

/** Each function once, by name, in order of first use. */
export function mergeFunctions(lists: readonly (readonly ShellFunction[])[]): ShellFunction[] {
  const seen = new Map<string, ShellFunction>();
  for (const list of lists) for (const f of list) if (!seen.has(f.name)) seen.set(f.name, f);
  return [...seen.values()];
}

/** The definitions as shell text, ending in a newline (empty for none). */
export function definitions(functions: readonly ShellFunction[]): Buffer {
  return Buffer.from(functions.map((f) => `${f.definition}\n`).join(''), 'utf8');
}

/**
 * A remote shell command: the exact bytes sent to `sh -c`, plus optional
 * standard input. Built only through {@link sh}, so every interpolated value
 * is quoted and a Secret can never end up in argv.
 */
export class Command {
  constructor(
    /** The command itself, without the definitions of the functions it calls. */
    readonly body: Buffer,
    readonly stdin: readonly StdinPart[] = [],
    /**
     * Its output is about secret content (the state read of a Secret file):
     * never streamed at -v, whatever it is batched with.
     */
    readonly quiet = false,
    /** Shell functions the body calls: defined once in front of it (see {@link ShellFunction}). */
    readonly functions: readonly ShellFunction[] = [],
    /**
     * When it succeeds, it has read exactly its stdin's bytes and no more
     * (the file writer): it may read a stdin shared with the commands after
     * it, with no `head -c` to cut its part out (run-ahead.ts).
     */
    readonly readsExactlyItsStdin = false,
  ) {}

  /**
   * The whole script for `sh -c`: the functions' definitions, then the body.
   * Code that nests a command through these bytes stays correct (it carries
   * its definitions along); sh``, join and the batchers nest the body and
   * hoist the definitions instead, so each is sent once per script.
   */
  get bytes(): Buffer {
    return this.functions.length ? Buffer.concat([definitions(this.functions), this.body]) : this.body;
  }

  /** Same command, its output never streamed. */
  quietly(): Command {
    return new Command(this.body, this.stdin, true, this.functions, this.readsExactlyItsStdin);
  }

  /** The command as text for logs (without the functions' definitions): lossy for non-UTF-8 bytes, secrets redacted. */
  display(): string {
    return redact(this.body.toString('utf8'));
  }

  toString(): string {
    return this.display();
  }

  /** Same command, with bytes appended to its standard input. */
  withStdin(...parts: StdinPart[]): Command {
    return new Command(this.body, [...this.stdin, ...parts], this.quiet, this.functions);
  }

  /** The whole stdin in memory (files read too): for small inputs; transports stream it (stdin-source.ts). */
  stdinBytes(): Buffer {
    return stdinBuffer(this.stdin);
  }

  /** The stdin's length in bytes, without reading any file part. */
  stdinLength(): number {
    return this.stdin.reduce((n, p) => n + partLength(p), 0);
  }

  hasStdin(): boolean {
    return this.stdin.length > 0;
  }

  /** Commands joined with a shell operator; stdin parts are concatenated in order. */
  static join(commands: readonly Command[], separator: '&&' | ';' | '||' | '\n' = '&&'): Command {
    const sep = Buffer.from(separator === '\n' ? '\n' : ` ${separator} `);
    const parts: Buffer[] = [];
    commands.forEach((c, i) => {
      if (i > 0) parts.push(sep);
      parts.push(c.body);
    });
    return new Command(Buffer.concat(parts), commands.flatMap((c) => c.stdin), commands.some((c) => c.quiet), mergeFunctions(commands.map((c) => c.functions)));
  }
}

/**
 * Fails with `message` on stderr unless `test` succeeds: the first command of
 * a change planned while something it needs is not installed yet (check
 * mode before the package task), so the real run stops with a clear reason.
 */
export function requireThat(test: Command, message: string): Command {
  return sh`${test} >/dev/null 2>&1 || { echo ${message} >&2; exit 1; }`;
}

/**
 * A change's commands as few execs as possible: commands without stdin are
 * joined into one exec (each in braces, stopping at the first failure);
 * a command with stdin goes alone, as one exec has one standard input.
 */
export function groupForExec(commands: readonly Command[]): Command[] {
  const execs: Command[] = [];
  let pending: Command[] = [];
  const flush = () => {
    if (pending.length) execs.push(Command.join(pending.map((c) => new Command(Buffer.concat([Buffer.from('{ '), c.body, Buffer.from('\n}')]), [], c.quiet, c.functions))));
    pending = [];
  };
  for (const c of commands) {
    if (c.hasStdin()) {
      flush();
      execs.push(c);
    } else pending.push(c);
  }
  flush();
  return execs;
}

function render(value: Interpolation): Buffer {
  if (value instanceof Raw) return Buffer.from(value.text, 'utf8');
  if (value instanceof Command) {
    if (value.hasStdin()) throw new TypeError('a command with stdin cannot be nested inside another command');
    return value.body;
  }
  if (value instanceof Secret || (value as unknown) instanceof Secret) {
    throw new TypeError('a Secret cannot be placed in a command line; pass it on stdin with .withStdin()');
  }
  if (Array.isArray(value)) {
    return Buffer.concat(value.flatMap((v, i) => (i === 0 ? [render(v)] : [Buffer.from(' '), render(v)])));
  }
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    throw new TypeError(`cannot interpolate ${Object.prototype.toString.call(value)} into a command`);
  }
  return quote(value as string | number | bigint | Buffer);
}

/**
 * Tagged template for remote commands: every ${value} is POSIX-quoted.
 *   sh`mkdir -p -- ${dir} && chmod ${mode} -- ${dir}`
 */
export function sh(strings: TemplateStringsArray, ...values: Interpolation[]): Command {
  const parts: Buffer[] = [];
  strings.forEach((s, i) => {
    parts.push(Buffer.from(s, 'utf8'));
    if (i < values.length) parts.push(render(values[i] as Interpolation));
  });
  const nested = values.filter((v): v is Command => v instanceof Command);
  return new Command(Buffer.concat(parts), [], nested.some((c) => c.quiet), mergeFunctions(nested.map((c) => c.functions)));
}

/** Shell syntax inserted as written. Never pass user data through raw(). */
export function raw(text: string): Raw {
  return new Raw(text);
}
