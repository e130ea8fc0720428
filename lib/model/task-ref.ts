// The type that task.ts and host-context.ts share. A task's options take the
// host's context (`when: (h) => ...`), and the host's context looks tasks up
// (`h.result(task)`): with the handle here, each of those two files imports
// this one instead of the other.

/** A task as a host context looks it up: its identity, and the type of the result it registers. */
export interface TaskRef<R = unknown> {
  readonly id: string;
  readonly name: string;
  /** Phantom: carries R, so `h.result(task)` is typed by the task's op. */
  readonly __result?: R;
}
