import { createHash, randomBytes } from 'node:crypto';
import { definitions, mergeFunctions, type Command, type StdinPart } from '../shell/command.ts';
import { stdinKey } from '../shell/stdin-source.ts';
import type { ExecResult } from '../transport/types.ts';
import { segmentClose, segmentOpen, splitBatch } from './probe-batch.ts';

/**
 * Run-ahead: a cold converge would pay one round trip per changed task. When
 * a change runs, the host-local changes of the tasks right after it ride in
 * the same exec, each behind a guard: the task's probe runs again on the
 * host, and its change runs only if the probe's output (stdout, stderr and
 * exit status) is byte for byte what the controller decided from. A decision
 * is a pure function of that output and the task's parameters, so the change
 * that runs is exactly the one the task would have run in its own round
 * trip. The first guard that does not hold (or the first change that fails)
 * ends the chain; the tasks after it run as usual.
 *
 * The expected digests travel on stdin, not in the command line, so not even
 * a hash of a probed file shows in the host's process list.
 */

/** A later task whose change rides along, with what the controller decided from. */
export interface AheadLink {
  taskId: string;
  probe: Command;
  /** The probe output the decision was made from. */
  decidedFrom: ExecResult;
  commands: readonly Command[];
}

/** What ran ahead for a task: consumed when the runner reaches that task. */
export interface RanAhead {
  decidedFrom: ExecResult;
  /** The exact commands that ran, to check that the task decides the same again. */
  commands: Buffer;
  act: ExecResult;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The digest the guard compares: the same text the remote builds with sha256sum. */
export function probeDigest(r: ExecResult): string {
  return sha256(`${r.code}\n${sha256(r.stdout)}  o\n${sha256(r.stderr)}  e\n`);
}

/** The commands of a change as the bytes that identify them. */
export function commandsKey(commands: readonly Command[]): Buffer {
  return Buffer.concat(commands.flatMap((c) => [c.bytes, Buffer.from('\0'), stdinKey(c.stdin), Buffer.from('\0')]));
}

/**
 * A change's commands as one shell fragment reading its own slice of a
 * shared stdin: a command with stdin gets exactly its bytes (`head -c`, which
 * never reads past its count; a command that reads exactly its own bytes,
 * the file writer, reads the shared stdin itself), the others /dev/null.
 * Stops at the first failure, like separate execs would (after a failure
 * nothing reads the shared stdin again, so a part left unread is harmless).
 */
function act(commands: readonly Command[]): { bytes: Buffer; stdin: StdinPart[] } {
  const parts: Buffer[] = [];
  const stdin: StdinPart[] = [];
  commands.forEach((c, i) => {
    if (i > 0) parts.push(Buffer.from(' && '));
    const n = c.stdinLength();
    if (n > 0 && c.readsExactlyItsStdin) {
      parts.push(Buffer.from('{ (\n'), c.body, Buffer.from('\n); }'));
      stdin.push(...c.stdin);
    } else if (n > 0) {
      parts.push(Buffer.from(`{ head -c ${n} | (\n`), c.body, Buffer.from('\n); }'));
      stdin.push(...c.stdin);
    } else parts.push(Buffer.from('{ (\n'), c.body, Buffer.from('\n) </dev/null; }'));
  });
  return { bytes: Buffer.concat(parts), stdin };
}

/**
 * The head change followed by its run-ahead links. Output: the head's
 * stdout/stderr, a line `END rc` (stdout) / `END` (stderr), then one framed
 * segment per link that ran, then `DONE` on both streams.
 */
export function headWithLinks(head: Command, links: readonly AheadLink[], marker = `@@rigger-ahead-${randomBytes(8).toString('hex')}`) {
  const end = `${marker}-end`;
  const done = `${marker}-done`;
  const headAct = links.length ? act([head]) : { bytes: Buffer.concat([Buffer.from('(\n'), head.body, Buffer.from('\n)')]), stdin: [...head.stdin] };
  // The functions the head and the links call (the file writer), defined once for the whole exec.
  const functions = mergeFunctions([head.functions, ...links.flatMap((l) => [l.probe.functions, ...l.commands.map((c) => c.functions)])]);
  const parts: Buffer[] = [
    definitions(functions),
    headAct.bytes,
    Buffer.from(`\nrigger_rc=$?\nprintf '\\n%s %s\\n' '${end}' "$rigger_rc"; printf '\\n%s\\n' '${end}' >&2\n`),
  ];
  const stdin: StdinPart[] = [...headAct.stdin];
  if (links.length) {
    parts.push(
      Buffer.from(
        // The guard's scratch dir goes on every way the chain can end (an interrupted run: TERM from the wrapper's watchdog).
        'rigger_t=\ntrap \'[ -z "$rigger_t" ] || rm -rf -- "$rigger_t"\' EXIT\ntrap \'exit 129\' HUP; trap \'exit 130\' INT; trap \'exit 143\' TERM; trap \'exit 141\' PIPE\n' +
          'if [ "$rigger_rc" -eq 0 ] && command -v sha256sum >/dev/null 2>&1 && rigger_t=$(mktemp -d "${TMPDIR:-/tmp}/rigger-ahead.XXXXXXXX"); then\nwhile :; do\n',
      ),
    );
    links.forEach((link, i) => {
      const a = act(link.commands);
      // `read` takes one line and no more (it reads byte by byte, or seeks
      // back on a file), so the act's own bytes stay where they are.
      stdin.push(`${probeDigest(link.decidedFrom)}\n`, ...a.stdin);
      parts.push(
        Buffer.from('IFS= read -r rigger_x || break\n( '),
        link.probe.body,
        Buffer.from(
          `\n) >"$rigger_t/o" 2>"$rigger_t/e" </dev/null; rigger_c=$?\n` +
            `[ "$({ echo "$rigger_c"; cd "$rigger_t" && sha256sum o e; } | sha256sum)" = "$rigger_x  -" ] || break\n` +
            segmentOpen(marker, i),
        ),
        a.bytes,
        Buffer.from(`\nrigger_c=$?\n${segmentClose(marker, i, '$rigger_c')}[ "$rigger_c" -eq 0 ] || break\n`),
      );
    });
    parts.push(Buffer.from('break\ndone\nrm -rf -- "$rigger_t"; rigger_t=\nfi\n'));
  }
  parts.push(Buffer.from(`printf '\\n%s\\n' '${done}'; printf '\\n%s\\n' '${done}' >&2\n`));
  const quiet = head.quiet || links.some((l) => l.probe.quiet || l.commands.some((c) => c.quiet));
  return { bytes: Buffer.concat(parts), stdin, marker, end, done, quiet };
}

/** Splits the output of {@link headWithLinks}: the head's result, each link that ran, and what came after. */
export function splitHeadWithLinks(r: ExecResult, layout: { marker: string; end: string; done: string }, links: readonly AheadLink[]) {
  const outEnd = r.stdout.indexOf(Buffer.from(`\n${layout.end} `));
  const errEnd = r.stderr.indexOf(Buffer.from(`\n${layout.end}\n`));
  if (outEnd < 0 || errEnd < 0) return undefined;
  const nl = r.stdout.indexOf(0x0a, outEnd + 1 + layout.end.length);
  const head: ExecResult = { ...r, stdout: r.stdout.subarray(0, outEnd), stderr: r.stderr.subarray(0, errEnd), code: Number(r.stdout.subarray(outEnd + 1 + layout.end.length + 1, nl).toString('ascii')) };
  const outDone = r.stdout.indexOf(Buffer.from(`\n${layout.done}\n`), nl);
  const errDone = r.stderr.indexOf(Buffer.from(`\n${layout.done}\n`), errEnd);
  if (outDone < 0 || errDone < 0) return { head, ran: [], rest: undefined };
  // The links that ran are framed like a probe batch, between the head's end and DONE.
  const between: ExecResult = { ...r, stdout: r.stdout.subarray(nl + 1, outDone + 1), stderr: r.stderr.subarray(errEnd + 1, errDone + 1) };
  const ran = splitBatch(between, layout.marker, links.length, true);
  const rest: ExecResult = { ...r, stdout: r.stdout.subarray(outDone + 1), stderr: r.stderr.subarray(errDone + 1) };
  return { head, ran, rest };
}
