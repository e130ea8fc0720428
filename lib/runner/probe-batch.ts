import { randomBytes } from 'node:crypto';
import { Command } from '../shell/command.ts';
import type { ExecResult } from '../transport/types.ts';

/**
 * Many read-only probes in one remote command, so reading the state of a
 * whole role costs one round trip per host instead of one per task. Each
 * probe runs in its own subshell (an `exit` in one cannot end the others),
 * and its stdout, stderr and exit status are delimited by a random marker
 * that the probes' output cannot predict.
 */
export function batchScript(commands: readonly Command[], marker = `@@rigger-${randomBytes(8).toString('hex')}`): { command: Command; marker: string } {
  const parts: Buffer[] = [];
  commands.forEach((c, i) => {
    if (c.hasStdin()) throw new Error('a probe cannot take stdin');
    parts.push(Buffer.from(`${segmentOpen(marker, i)}(\n`), c.bytes, Buffer.from(`\n)\n${segmentClose(marker, i, '$?')}`));
  });
  return { command: new Command(Buffer.concat(parts), [], commands.some((c) => c.quiet)), marker };
}

/** Shell lines that open segment i on stdout and stderr (also used by run-ahead.ts). */
export function segmentOpen(marker: string, i: number): string {
  return `printf '%s\\n' '${marker} s ${i}'; printf '%s\\n' '${marker} s ${i}' >&2\n`;
}

/** Shell lines that close segment i, with `status` (a shell expression) as its exit status. */
export function segmentClose(marker: string, i: number, status: string): string {
  return `printf '\\n%s %s\\n' '${marker} e ${i}' "${status}"; printf '\\n%s\\n' '${marker} e ${i}' >&2\n`;
}

/** Up to `count` segments; with `partial`, the complete ones found so far instead of an error. */
function segments(stream: Buffer, marker: string, count: number, withStatus: boolean, partial: boolean) {
  const out: { body: Buffer; code: number }[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const start = Buffer.from(`${marker} s ${i}\n`);
    const startAt = stream.indexOf(start, pos);
    if (startAt < 0) {
      if (partial) break;
      throw new Error(`probe batch output is missing the start of probe ${i}`);
    }
    const bodyStart = startAt + start.length;
    const end = Buffer.from(`\n${marker} e ${i}${withStatus ? ' ' : '\n'}`);
    const endAt = stream.indexOf(end, bodyStart);
    if (endAt < 0) {
      if (partial) break;
      throw new Error(`probe batch output is missing the end of probe ${i}`);
    }
    let code = 0;
    let next = endAt + end.length;
    if (withStatus) {
      const nl = stream.indexOf(0x0a, next);
      code = Number(stream.subarray(next, nl).toString('ascii'));
      next = nl + 1;
    }
    out.push({ body: stream.subarray(bodyStart, endAt), code });
    pos = next;
  }
  return out;
}

/**
 * Splits framed output back into one result per segment. `partial`: the
 * segments that completed (run-ahead links stop at the first that does not
 * run); otherwise a missing segment is an error.
 */
export function splitBatch(result: ExecResult, marker: string, count: number, partial = false): ExecResult[] {
  const outs = segments(result.stdout, marker, count, true, partial);
  const errs = segments(result.stderr, marker, count, false, partial);
  return outs.slice(0, errs.length).map((o, i) => ({
    stdout: o.body,
    stderr: errs[i]!.body,
    code: o.code,
    durationMs: result.durationMs,
  }));
}
