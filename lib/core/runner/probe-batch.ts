import { randomBytes } from 'node:crypto';
import { Command } from '../command.ts';
import type { ExecResult } from '../../transport/types.ts';

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
    parts.push(
      Buffer.from(`printf '%s\\n' '${marker} s ${i}'; printf '%s\\n' '${marker} s ${i}' >&2; (\n`),
      c.bytes,
      Buffer.from(`\n); printf '\\n%s %s\\n' '${marker} e ${i}' "$?"; printf '\\n%s\\n' '${marker} e ${i}' >&2\n`),
    );
  });
  return { command: new Command(Buffer.concat(parts)), marker };
}

function segments(stream: Buffer, marker: string, count: number, withStatus: boolean) {
  const out: { body: Buffer; code: number }[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const start = Buffer.from(`${marker} s ${i}\n`);
    const startAt = stream.indexOf(start, pos);
    if (startAt < 0) throw new Error(`probe batch output is missing the start of probe ${i}`);
    const bodyStart = startAt + start.length;
    const end = Buffer.from(`\n${marker} e ${i}${withStatus ? ' ' : '\n'}`);
    const endAt = stream.indexOf(end, bodyStart);
    if (endAt < 0) throw new Error(`probe batch output is missing the end of probe ${i}`);
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

/** Splits the batch's output back into one result per probe. */
export function splitBatch(result: ExecResult, marker: string, count: number): ExecResult[] {
  const outs = segments(result.stdout, marker, count, true);
  const errs = segments(result.stderr, marker, count, false);
  return outs.map((o, i) => ({
    stdout: o.body,
    stderr: errs[i]!.body,
    code: o.code,
    durationMs: result.durationMs,
  }));
}
