import { Command } from '../shell/command.ts';
import type { Become, ExecResult } from '../transport/types.ts';
import type { HostSession } from './host-session.ts';
import { headWithLinks, splitHeadWithLinks, type AheadLink } from './run-ahead.ts';

/**
 * --apply: a planned change runs behind the run-ahead guard. Its commands
 * are the one link of an empty head, so in the same exec the host runs the
 * task's probe again and runs the commands only if the probe's output has
 * the digest the task was just judged by. The state the plan's judgement
 * rests on cannot change between that read (perhaps batch-read several
 * tasks earlier) and the change. `moved`: the guard did not hold, nothing ran.
 */
export async function guardedChange(
  target: HostSession,
  become: Become | undefined,
  link: AheadLink,
): Promise<{ ran: ExecResult } | { moved: true; output: ExecResult }> {
  const layout = headWithLinks(new Command(Buffer.from(':')), [link]);
  const output = await target.exec(new Command(layout.bytes, layout.stdin, layout.quiet), link.taskId, become);
  const ran = splitHeadWithLinks(output, layout, [link])?.ran[0];
  return ran ? { ran } : { moved: true, output };
}
