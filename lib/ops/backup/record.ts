import { z } from '../../core/zod.ts';
import { sh } from '../../core/command.ts';
import { absolutePath, defineOp, type Decision } from '../../core/op.ts';
import { Secret } from '../../core/secret.ts';
import { RUN_LOG, runLogEntry, type RunLogEntry } from '../../backup/listing.ts';

/**
 * Appends one line to the backup root's run log, which --list reads: a
 * failed or missing night shows there. A single short write with O_APPEND,
 * so concurrent runs interleave whole lines. Skipped quietly when the root
 * is missing (the failure it would record already says so).
 */
export const recordRun = defineOp({
  kind: 'backup.record',
  schema: z.object({ root: absolutePath, entry: runLogEntry }).strict(),
  describe: (p) => `${p.entry.kind} ${p.entry.status}`,
  decide: (p): Decision<RunLogEntry> => {
    const line = JSON.stringify(p.entry).replace(/\n/g, ' ');
    return {
      kind: 'change',
      msg: `log ${p.entry.kind} ${p.entry.status}${p.entry.set ? ` ${p.entry.set}` : ''}`,
      commands: [sh`if [ -d ${p.root} ]; then mkdir -p -- ${`${p.root}/.rigger`} && printf '%s\n' ${line} >> ${`${p.root}/${RUN_LOG}`}; fi`],
      result: () => p.entry,
      checkResult: p.entry,
    };
  },
});

/** A curl config string: backslash and double quote escaped, no newlines. */
const curlString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/**
 * POSTs a JSON payload to a webhook from the host. The URL (a Secret: it
 * usually carries a token) goes to curl in a config on stdin, never argv.
 */
export const notifyWebhook = defineOp({
  kind: 'backup.webhook',
  schema: z.object({ url: z.instanceof(Secret), payload: z.record(z.string(), z.unknown()) }).strict(),
  describe: () => 'webhook',
  decide: (p): Decision<{ sent: boolean }> => {
    const config = new Secret(
      [`url = ${curlString(p.url.reveal())}`, 'header = "Content-Type: application/json"', `data-binary = ${curlString(JSON.stringify(p.payload))}`, ''].join('\n'),
    );
    return {
      kind: 'change',
      msg: `notify the webhook: ${String(p.payload.text ?? '')}`.slice(0, 200),
      commands: [sh`curl -fsS -o /dev/null --max-time 10 --retry 2 -K -`.withStdin(config)],
      result: () => ({ sent: true }),
      checkResult: { sent: false },
    };
  },
});
