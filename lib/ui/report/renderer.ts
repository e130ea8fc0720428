import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../../model/events.ts';
import { redact } from '../../shell/secret.ts';
import type { Renderer } from '../renderer.ts';
import { renderReport } from './html.ts';
import { RunRecorder } from './record.ts';

/**
 * --report FILE.html: one more consumer of run events, beside the terminal.
 * It keeps the run as data and writes the page once the run has ended.
 */
export class ReportRenderer implements Renderer {
  readonly #recorder: RunRecorder;
  constructor(
    private readonly file: string,
    now?: () => number,
  ) {
    this.#recorder = new RunRecorder(now);
  }

  handle(event: RunEvent): void {
    this.#recorder.handle(event);
  }

  async flush(): Promise<void> {
    mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
    // Events are redacted by the bus already; the page is scrubbed once more
    // as a whole because it is a file that outlives the run.
    writeFileSync(this.file, redact(renderReport(this.#recorder.record)));
  }
}
