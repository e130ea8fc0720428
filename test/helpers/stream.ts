import { spawn, type ChildProcess } from 'node:child_process';

/** A playbook run whose --json events can be awaited as they arrive. */
export class LiveRun {
  readonly child: ChildProcess;
  readonly events: Record<string, any>[] = [];
  stdout = '';
  stderr = '';
  readonly done: Promise<number | null>;
  #waiters: { pred: (e: Record<string, any>) => boolean; resolve: () => void }[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn('node_modules/.bin/tsx', args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.on('data', (c: Buffer) => {
      this.stdout += c;
      buf += c;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const e = JSON.parse(line);
          this.events.push(e);
          this.#waiters = this.#waiters.filter((w) => (w.pred(e) ? (w.resolve(), false) : true));
        } catch {
          // not JSON: the test will see it in stdout
        }
      }
    });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c));
    this.done = new Promise((r) => this.child.on('close', (code) => r(code)));
  }

  /** Resolves when an event matching pred has been seen (bounded by timeoutMs). */
  waitFor(pred: (e: Record<string, any>) => boolean, timeoutMs = 30_000): Promise<void> {
    if (this.events.some(pred)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`event not seen in ${timeoutMs} ms; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`)), timeoutMs);
      this.#waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

/** Polls until check() holds or the deadline passes; for waiting on remote state, never a fixed sleep. */
export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
