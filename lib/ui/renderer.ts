import type { RunEvent } from '../model/events.ts';

/** Turns run events into output. Renderers never run commands. */
export interface Renderer {
  handle(event: RunEvent): void;
  /** Resolves once everything received has been written. */
  flush(): Promise<void>;
}
