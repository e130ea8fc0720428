// The Engine API's pull progress (POST /images/create), read line by line as
// the daemon streams it, and the verdict on a pull that stopped moving.
//
// Why the API's JSON and not `docker pull`'s output: without a terminal the
// CLI drops every message that carries a progress bar (moby's jsonmessage
// Display, "disable progressbar in non-terminal"), so a single 5 GB layer
// prints nothing between "Pulling fs layer" and "Download complete". The
// JSON stream has each layer's bytes (progressDetail.current of .total).

/** One message of the stream, as moby's jsonmessage.JSONMessage writes it. */
interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  /** The API's own error body (an HTTP error before the stream starts: no such image, a bad reference). */
  message?: string;
}

/** A layer step that means the pull moved on, though no byte count came with it. */
const ADVANCING = /^(Pulling fs layer|Verifying Checksum|Download complete|Pull complete|Already exists|Digest: |Status: )/;

const size = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`);

/**
 * What a pull has done so far. Progress is a layer's byte count growing
 * (downloading or extracting) or a layer stepping on (verified, complete);
 * "Waiting" and "Retrying in 5 seconds" are not progress, so a registry that
 * keeps failing is a stall like one that sends nothing.
 */
export class PullProgress {
  /** When progress was last seen (the clock's milliseconds). */
  lastProgressAt: number;
  /** The last progress, for a failure's message: "3f1c: Downloading 1.20 GB of 4.80 GB". */
  lastProgress: string | undefined;
  /** The daemon's error, if the pull failed. */
  error: string | undefined;
  /** Whether the daemon said the image is there ("Status: Downloaded newer image", "Status: Image is up to date"). */
  done = false;
  /** Bytes per layer and step: only growth counts. */
  readonly #bytes = new Map<string, number>();
  readonly #steps = new Set<string>();
  #partial = '';

  constructor(now: number) {
    this.lastProgressAt = now;
  }

  /** A chunk of the stream as it arrived (lines may be split across chunks). */
  feed(chunk: string, now: number): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.line(line, now);
  }

  /** The end of the stream: a last line without its newline. */
  end(now: number): void {
    if (this.#partial) this.line(this.#partial, now);
    this.#partial = '';
  }

  line(text: string, now: number): void {
    const trimmed = text.trim();
    if (!trimmed.startsWith('{')) return;
    let m: PullMessage;
    try {
      m = JSON.parse(trimmed) as PullMessage;
    } catch {
      return;
    }
    if (m.error || m.errorDetail?.message || (m.message && !m.status)) {
      this.error = m.errorDetail?.message ?? m.error ?? m.message;
      return;
    }
    const status = m.status ?? '';
    const layer = m.id ? `${m.id}: ` : '';
    const current = m.progressDetail?.current;
    if (typeof current === 'number') {
      const key = `${m.id ?? ''} ${status}`;
      if (current > (this.#bytes.get(key) ?? -1)) {
        this.#bytes.set(key, current);
        const total = m.progressDetail?.total;
        this.#moved(`${layer}${status} ${size(current)}${total ? ` of ${size(total)}` : ''}`, now);
      }
      return;
    }
    if (status.startsWith('Status: ')) this.done = true;
    const step = `${m.id ?? ''} ${status}`;
    if (ADVANCING.test(status) && !this.#steps.has(step)) {
      this.#steps.add(step);
      this.#moved(`${layer}${status}`, now);
    }
  }

  #moved(what: string, now: number): void {
    this.lastProgress = what;
    this.lastProgressAt = now;
  }
}

/** Whether a pull has gone `stallMs` without progress: its deadline is always the last progress plus the stall limit. */
export function stalled(p: PullProgress, now: number, stallMs: number): boolean {
  return now - p.lastProgressAt >= stallMs;
}
