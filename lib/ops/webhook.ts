import { z } from '../shell/zod.ts';
import { sh } from '../shell/command.ts';
import { defineOp, type Decision } from '../model/op.ts';
import { Secret } from '../shell/secret.ts';

/** A curl config string: backslash and double quote escaped, no newlines. */
const curlString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/**
 * POSTs a JSON payload to a webhook from the host. The URL (a Secret: it
 * usually carries a token) goes to curl in a config on stdin, never argv.
 */
export const notifyWebhook = defineOp({
  // The op began as the backup's notifier and kept its kind when it became a
  // general op: the kind is printed in --json events and the --report page,
  // so renaming it would change output that scripts and saved reports read.
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
