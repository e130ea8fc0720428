import type { RunEvent } from '../model/events.ts';

/**
 * Names each run of a task on a host the same way at plan and at apply:
 * the play's number, the task's id, and how many times the host finished
 * that task before (a role's task runs again in a later play; a handler
 * may run at each flush). Task ids come from declaration order, which the
 * source digest holds fixed between the two runs.
 */
export class TaskPositions {
  #play = -1;
  readonly #finished = new Map<string, number>();

  /** The key of the host's current run of the task. */
  key(host: string, taskId: string): string {
    return `${this.#play}/${taskId}/${this.#finished.get(this.#slot(host, taskId)) ?? 0}`;
  }

  /** Call after the event's own handling (its key is still the current one). */
  follow(e: RunEvent): void {
    if (e.type === 'play-start') this.#play++;
    if (e.type === 'task-host') {
      const slot = this.#slot(e.host, e.id);
      this.#finished.set(slot, (this.#finished.get(slot) ?? 0) + 1);
    }
  }

  #slot(host: string, taskId: string): string {
    return `${host}\0${this.#play}\0${taskId}`;
  }
}
