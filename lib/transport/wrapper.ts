import { randomBytes } from 'node:crypto';
import { quoteBytes } from '../core/quote.ts';
import type { Become } from './types.ts';
import { PROCESS_STARTED_S } from '../core/started.ts';

/**
 * Without a pty, sshd does not signal a command when its channel closes, so
 * a killed controller would leave `apt-get` or `sleep` running on the host.
 * Every remote command is therefore run through this POSIX sh wrapper:
 *
 * - the command runs in its own session (setsid), so it can be killed as a
 *   process group;
 * - a watchdog reads the channel's stdin until EOF, which happens only when
 *   the channel closes (the controller never sends EOF while a command
 *   runs), and then kills that group;
 * - stdin payload (file content, secrets) is length-framed: exactly N bytes
 *   are read into a 0700 temp dir, so a truncated transfer is detected
 *   (exit 125) instead of being taken for a short file, and the temp dir is
 *   removed by the EXIT trap, including after TERM/HUP/INT.
 *
 * `kill -TERM -$p` (not `kill -- -$p`): dash's kill builtin rejects `--`.
 *
 * With `become`, the wrapper runs under sudo and first prints a ready marker
 * on stderr so the controller knows sudo has finished reading the password.
 */
export const PAYLOAD_TRUNCATED = 125;

export interface WrappedCommand {
  bytes: Buffer;
  /** Printed by sudo -S when it wants the password. */
  promptMarker?: string;
  /** Printed on stderr once sudo has handed over to the wrapper. */
  readyMarker?: string;
}

/**
 * Removes payload and run-ahead dirs that a killed run left in $TMPDIR (the
 * traps remove them on every other ending): this user's, rigger's own names
 * only, older than this controller process and a minute, as another run on
 * the same host may still be filling one.
 */
const SWEEP_STALE =
  'find "${TMPDIR:-/tmp}" -maxdepth 1 -type d \\( -name \'rigger.????????\' -o -name \'rigger-ahead.????????\' \\) ' +
  `-user "$(id -u)" ! -newermt @${PROCESS_STARTED_S} -mmin +1 -exec rm -rf -- {} + 2>/dev/null`;

/** `sweep`: also remove stale temp dirs first (the transport asks for it once per run). */
export function wrapCommand(command: Buffer, payloadLength: number, become?: Become, sweep = false): WrappedCommand {
  const lines = [
    'exec 3<&0 </dev/null',
    'd=',
    `trap 'if [ -n "$d" ]; then rm -rf -- "$d"; fi' EXIT`,
    // PIPE too: once the channel is gone any write kills the shell, and the
    // EXIT trap must still run.
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE",
    ...(sweep ? [SWEEP_STALE] : []),
  ];
  const nonce = randomBytes(8).toString('hex');
  const readyMarker = become ? `rigger-ready-${nonce}` : undefined;
  if (readyMarker) lines.push(`printf '%s\\n' '${readyMarker}' >&2`);
  let input = '</dev/null';
  if (payloadLength > 0) {
    lines.push(
      'd=$(mktemp -d "${TMPDIR:-/tmp}/rigger.XXXXXXXX") || exit ' + PAYLOAD_TRUNCATED,
      `head -c ${payloadLength} <&3 >"$d/in" || exit ${PAYLOAD_TRUNCATED}`,
      `[ "$(wc -c <"$d/in")" -eq ${payloadLength} ] || exit ${PAYLOAD_TRUNCATED}`,
    );
    input = '<"$d/in"';
  }
  const head = Buffer.from(lines.join('\n') + '\nsetsid sh -c ', 'utf8');
  const tail = Buffer.from(
    ` ${input} 3<&- &\n` +
      'p=$!\n' +
      '( cat <&3 >/dev/null 2>&1; kill -TERM -$p 2>/dev/null ) </dev/null >/dev/null 2>&1 &\n' +
      'w=$!\n' +
      'exec 3<&-\n' +
      // dash reports a job killed by a signal on stderr; after a closed
      // channel that write would raise SIGPIPE.
      'wait $p 2>/dev/null; r=$?\n' +
      'kill $w 2>/dev/null\n' +
      'exit $r\n',
    'utf8',
  );
  const script = Buffer.concat([head, quoteBytes(command), tail]);
  if (!become) {
    return { bytes: Buffer.concat([Buffer.from('sh -c ', 'utf8'), quoteBytes(script)]) };
  }
  const promptMarker = `[rigger-sudo-${nonce}]`;
  const sudo = become.password
    ? `sudo -H -S -p '${promptMarker}' -u ${quoteBytes(Buffer.from(become.user)).toString()} -- sh -c `
    : `sudo -H -n -u ${quoteBytes(Buffer.from(become.user)).toString()} -- sh -c `;
  return {
    bytes: Buffer.concat([Buffer.from(sudo, 'utf8'), quoteBytes(script)]),
    promptMarker: become.password ? promptMarker : undefined,
    readyMarker,
  };
}
