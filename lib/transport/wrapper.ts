import { randomBytes } from 'node:crypto';
import { quoteBytes } from '../shell/quote.ts';
import type { Become } from './types.ts';

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
 * - stdin payload (file content, secrets) is length-framed, as the
 *   controller cannot send EOF: exactly N bytes are passed on to the
 *   command, then one newline must follow (the end mark). The bytes are
 *   streamed, never stored: they go through a FIFO (kernel memory), whose
 *   dir is removed once both ends are open, before the command starts, so a
 *   payload rests nowhere on the host's disk, even after a SIGKILL. The
 *   FIFO rather than a pipeline: the shell must know the command's process
 *   group while it still holds the FIFO's writing end, so that a transfer cut short (the channel closed
 *   before the end mark) kills the command before it can see EOF and take a
 *   short input for a whole one (exit 125, PAYLOAD_TRUNCATED). A command
 *   that stops reading its input early is not a cut transfer: the rest is
 *   drained by the watchdog. A command that is not reading while more
 *   than a pipe's worth is still to come blocks the sender, and with it the
 *   watchdog's start: for a payload over 4 KiB, a guard (GNU `tail -f`,
 *   which writes nothing and dies of SIGPIPE once the channel's stdout
 *   closes) watches the channel during the transfer, and its death kills
 *   the command as a cut transfer's does.
 *   Where the guard cannot watch (no GNU tail, as busybox's; a stdout that is
 *   a pty, as sudo's use_pty gives) the command is killed only once it reads
 *   again. What this cannot cover: a SIGKILL of this wrapper shell alone
 *   mid-transfer together with the channel closing leaves nobody to kill
 *   the command; the staged design never started
 *   it. The file writer still refuses such input (its checksum).
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
 * only, and older than 10 minutes by the host's own clock, as another run on
 * the same host may still be using one (a run-ahead dir lives as long as its
 * command). The controller's clock is not used: it may be skewed. The same
 * age as the file writer's sweep of its temp files (put-files.ts).
 */
const SWEEP_STALE =
  'find "${TMPDIR:-/tmp}" -maxdepth 1 -type d \\( -name \'rigger.????????\' -o -name \'rigger-ahead.????????\' \\) ' +
  '-user "$(id -u)" -mmin +10 -exec rm -rf -- {} + 2>/dev/null';

/**
 * A payload up to this size never fills the FIFO (a pipe holds at least a
 * page, even under the per-user pipe limit), so its sender cannot be blocked
 * by a command that is not reading, and needs no guard.
 */
const FIFO_NEVER_FULL = 4096;

/** The byte the controller sends after the payload: its arrival proves the payload arrived whole. */
export const PAYLOAD_END = Buffer.from('\n');

/**
 * `sweep`: also remove stale temp dirs first (the transport asks for it once per run).
 * A payload (payloadLength > 0) must be followed on stdin by {@link PAYLOAD_END}.
 */
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
      `mkfifo -m 600 "$d/in" || exit ${PAYLOAD_TRUNCATED}`,
      // Both ends are opened here, before the command starts, so that the
      // FIFO's name is gone before the command runs: read-write first (Linux
      // opens a FIFO so without waiting, fifo(7)), which lets each single end
      // open without waiting for the other; then that one is closed.
      'exec 5<>"$d/in" 6<"$d/in" 4>"$d/in" 5>&-',
      'rm -rf -- "$d"; d=',
    );
    // The wrapper's own copy of the reading end is closed once the command
    // holds it: a command that stops reading must make the sender fail.
    input = '<&6 6<&- 4>&-';
  }
  const head = Buffer.from(lines.join('\n') + '\nsetsid sh -c ', 'utf8');
  // The command of a cut transfer (or, guarded, of a closed channel) is
  // killed while this shell still holds the writing end, before it can see EOF.
  const killCut =
    '  kill -TERM -$p 2>/dev/null || kill -TERM $p 2>/dev/null\n' +
    '  exec 4>&-\n' +
    '  wait $p 2>/dev/null\n' +
    `  exit ${PAYLOAD_TRUNCATED}\n` +
    'fi\n' +
    'exec 4>&-\n';
  // head exits 0 after N bytes or at EOF (a cut transfer): the end mark
  // tells them apart. Non-zero: the command closed its input.
  const cut = `head -c ${payloadLength} <&3 >&4 2>/dev/null && ! IFS= read -r rigger_end <&3`;
  const feed =
    payloadLength === 0
      ? ''
      : payloadLength <= FIFO_NEVER_FULL
        ? // Fits in the empty FIFO: the sender waits only on the channel,
          // whose closing it sees as a cut transfer.
          `exec 6<&-\nif ${cut}; then\n` + killCut
        : 'exec 6<&-\n' +
          // The guard: the watchdog below reads the channel only once the
          // payload is through, and a command that is not reading its input
          // blocks the sender for as long as it likes; meanwhile GNU tail -f,
          // which writes nothing, watches the channel's stdout and dies of
          // SIGPIPE when the channel closes. The sender stops it with USR1.
          'tail -f /dev/null </dev/null 2>/dev/null 3<&- 4>&- &\n' +
          'g=$!\n' +
          `( s=0; if ${cut}; then s=1; fi; kill -USR1 $g; exit $s ) </dev/null >/dev/null 2>&1 &\n` +
          'q=$!\n' +
          'wait $g 2>/dev/null; e=$?\n' +
          // A sender blocked on the killed command's input then ends with EPIPE.
          'if [ "$(kill -l $e 2>/dev/null)" = PIPE ] || ! wait $q 2>/dev/null; then\n' +
          killCut;
  const tail = Buffer.from(
    ` ${input} 3<&- &\n` +
      'p=$!\n' +
      feed +
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
