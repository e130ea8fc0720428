import type { ChalkInstance } from 'chalk';
import type { ResumedHost, RunEvent, RunRecordRef } from '../model/events.ts';

/** "task 12 "write config" (play 1 "site")": where a resumed host starts, as the terminal and the report say it. */
export function resumedAt(h: ResumedHost): string {
  const play = `play ${h.play + 1} "${h.playName}"`;
  const where = h.task ? `task ${h.task.ordinal + 1} "${h.task.name}" of ${play}${h.task.location ? ` (${h.task.location})` : ''}` : `the handlers of ${play}`;
  const handlers = h.pendingHandlers.length > 0 ? `; pending handlers: ${h.pendingHandlers.join(', ')}` : '';
  return `${h.host} from ${where}${handlers}`;
}

/** The lines that open a resumed run. */
export function formatResume(e: Extract<RunEvent, { type: 'resume' }>, c: ChalkInstance): string[] {
  return [
    c.cyan(`RESUME of run ${e.from}: ${e.hosts.length} host(s) run again, another host is contacted only when a task delegates to it`),
    ...(e.changed ? [c.magenta(`  changed since, resumed all the same (--resume-anyway): ${e.changed}`)] : []),
    ...e.hosts.map((h) => `  ${resumedAt(h)}`),
  ];
}

/** Under the recap of a run that left hosts unfinished: how to run them again (where Ansible prints its retry file's path). */
export function formatRunRecorded(record: RunRecordRef | undefined, c: ChalkInstance): string[] {
  if (!record || record.unfinished.length === 0) return [];
  return [c.dim(`run recorded as ${record.id} (${record.file}); to run ${record.unfinished.join(', ')} again from where they stopped: --resume`)];
}
