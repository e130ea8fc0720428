import type { RunEvent } from '../model/events.ts';
import type { Renderer } from './renderer.ts';

/** --json: one JSON event per line on stdout and nothing else; the last line is the recap. */
export class JsonRenderer implements Renderer {
  constructor(private readonly write: (s: string) => void = (s) => process.stdout.write(s)) {}
  handle(event: RunEvent): void {
    this.write(JSON.stringify(event) + '\n');
  }
  async flush(): Promise<void> {}
}
