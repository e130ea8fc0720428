import type { ChalkInstance } from 'chalk';
import type { RunEvent } from '../model/events.ts';
import { formatDiff } from './diff-format.ts';
import { formatRecap } from './recap.ts';
import { formatProfile } from './profile-format.ts';
import { formatPlan } from './plan-format.ts';
import type { RunProfile } from '../model/profile.ts';
import type { Renderer } from './renderer.ts';
import { ms, statusColor } from './style.ts';
import { formatResume, formatRunRecorded } from './resume-format.ts';

/**
 * Plain lines for pipes, CI logs and NO_COLOR: every line that reports a
 * result names its host and task, so the output can be grepped.
 */
export class PlainRenderer implements Renderer {
  readonly #names = new Map<string, string>();
  /** --profile: arrives just before the recap, printed after it. */
  #profile: RunProfile | undefined;
  constructor(
    private readonly c: ChalkInstance,
    private readonly write: (s: string) => void = (s) => process.stdout.write(s),
  ) {}

  #line(s: string): void {
    this.write(s + '\n');
  }

  handle(e: RunEvent): void {
    const c = this.c;
    switch (e.type) {
      case 'run-start':
        if (e.check) this.#line(c.cyan('CHECK MODE: nothing will be changed'));
        break;
      case 'resume':
        for (const l of formatResume(e, c)) this.#line(l);
        break;
      case 'play-start':
        this.#line(c.bold(`PLAY [${e.play}] on ${e.hosts.length} host(s): ${e.hosts.join(', ')}`));
        break;
      case 'task-start':
        this.#names.set(e.id, e.task);
        break;
      case 'task-host': {
        const status = e.ignored ? 'failed (ignored)' : e.status;
        const via = e.delegatedTo ? ` -> ${e.delegatedTo}` : '';
        const msg = e.msg ? `: ${e.msg.split('\n')[0]}` : '';
        this.#line(`${statusColor(c, e.status)(`${status}:`)} [${e.host}${via}] ${e.task} (${ms(e.durationMs)})${msg}`);
        if (e.status === 'failed' && e.msg && e.msg.includes('\n')) {
          for (const l of e.msg.split('\n').slice(1)) this.#line(`  [${e.host}] ${l}`);
        }
        if (e.status === 'failed' && e.location) this.#line(`  [${e.host}] task defined at ${e.location}`);
        if (e.diff) for (const l of formatDiff(e.diff, c)) this.#line(`  [${e.host}] ${l}`);
        break;
      }
      case 'output':
        for (const l of e.text.replace(/\n$/, '').split('\n')) this.#line(`  [${e.host}] ${this.#names.get(e.id) ?? ''} ${e.stream}: ${l}`);
        break;
      case 'command':
        this.#line(c.dim(`  [${e.host}] ${this.#names.get(e.id) ?? ''} $ ${e.command}`));
        break;
      case 'warning':
        this.#line(c.magenta(`WARNING: ${e.message}`));
        break;
      case 'interrupted':
        this.#line(c.red(`INTERRUPTED by ${e.signal}: remote commands stopped`));
        break;
      case 'error':
        this.#line(c.red(`ERROR: ${e.message}`));
        break;
      case 'plan':
        for (const l of formatPlan(e, c)) this.#line(l);
        break;
      case 'profile':
        this.#profile = e.profile;
        break;
      case 'recap':
        for (const l of [...formatRecap(e.hosts, e.durationMs, c), ...formatRunRecorded(e.record, c)]) this.#line(l);
        if (this.#profile) for (const l of formatProfile(this.#profile, c)) this.#line(l);
        break;
      case 'task-end':
      case 'play-end':
        break;
    }
  }

  async flush(): Promise<void> {}
}
