import type { Secret } from '../shell/secret.ts';

/**
 * Watches a command's stderr for the sudo prompt and the wrapper's ready
 * marker, strips both from what the user sees, and tells the caller when to
 * send the password and when the payload may follow.
 */
export class BecomeHandshake {
  #buffered = '';
  #ready: boolean;
  #prompts = 0;
  constructor(
    private readonly promptMarker: string | undefined,
    private readonly readyMarker: string | undefined,
    private readonly password: Secret | undefined,
    private readonly sendPassword: (line: Buffer) => void,
    private readonly onReady: () => void,
    /** sudo asked again: the password was wrong. It would wait for another line forever. */
    private readonly onRejected: () => void = () => undefined,
  ) {
    this.#ready = !readyMarker;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Feed stderr; returns the part that belongs to the command itself. */
  feed(chunk: Buffer): Buffer {
    if (this.#ready) return chunk;
    this.#buffered += chunk.toString('latin1');
    while (this.promptMarker && this.#buffered.includes(this.promptMarker)) {
      this.#buffered = this.#buffered.replace(this.promptMarker, '');
      this.#prompts++;
      if (this.#prompts > 1) {
        this.onRejected();
        return Buffer.alloc(0);
      }
      if (this.password) this.sendPassword(Buffer.from(this.password.reveal() + '\n', 'utf8'));
    }
    const idx = this.readyMarker ? this.#buffered.indexOf(this.readyMarker + '\n') : -1;
    if (idx >= 0) {
      const before = this.#buffered.slice(0, idx);
      const after = this.#buffered.slice(idx + this.readyMarker!.length + 1);
      this.#buffered = '';
      this.#ready = true;
      this.onReady();
      return Buffer.from(before + after, 'latin1');
    }
    return Buffer.alloc(0);
  }

  /** Whatever sudo printed before failing (wrong password, not allowed). */
  leftover(): Buffer {
    return Buffer.from(this.#buffered, 'latin1');
  }
}
