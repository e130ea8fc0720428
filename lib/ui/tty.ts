import type { ChalkInstance } from 'chalk';
import { Listr, ListrDefaultRendererLogLevels, type ListrTaskWrapper } from 'listr2';
import type { RunEvent } from '../model/events.ts';
import { formatDiff } from './diff-format.ts';
import { formatRecap } from './recap.ts';
import { formatPlan } from './plan-format.ts';
import { formatProfile } from './profile-format.ts';
import type { RunProfile } from '../model/profile.ts';
import type { Renderer } from './renderer.ts';
import { countsText, summarizeTask, type TaskLine } from './task-summary.ts';
import { ms, statusColor } from './style.ts';
import { formatResume, formatRunRecorded } from './resume-format.ts';

type HostEvent = Extract<RunEvent, { type: 'task-host' }>;

interface Pending {
  resolve: (e: HostEvent) => void;
  wrapper?: ListrTaskWrapper<unknown, any, any>;
  output: string[];
}

/**
 * The live tree on a TTY: one listr2 list per task, a concurrent subtask per
 * host that settles when that host's result arrives; then, in its place, the
 * task's summary (task-summary.ts): skips one line per reason, and above
 * COUNTS_ABOVE_HOSTS hosts one line of counts; -v keeps a line per host.
 * Tasks run one after the other (linear strategy), so their lists are
 * chained, never interleaved.
 */
export class TtyRenderer implements Renderer {
  #chain: Promise<void> = Promise.resolve();
  readonly #pending = new Map<string, Map<string, Pending>>();
  /** --profile: arrives just before the recap, printed after it. */
  #profile: RunProfile | undefined;

  constructor(
    private readonly c: ChalkInstance,
    private readonly verbosity: number,
  ) {}

  #print(text: string): void {
    this.#chain = this.#chain.then(() => {
      process.stdout.write(text + '\n');
    });
  }

  handle(e: RunEvent): void {
    const c = this.c;
    switch (e.type) {
      case 'run-start':
        if (e.check) this.#print(c.cyan('CHECK MODE: nothing will be changed'));
        break;
      case 'resume':
        for (const l of formatResume(e, c)) this.#print(l);
        break;
      case 'play-start':
        this.#print(c.bold(`\nPLAY [${e.play}] ${c.dim(e.hosts.join(', '))}`));
        break;
      case 'task-start':
        this.#startTask(e);
        break;
      case 'task-host':
        this.#pending.get(e.id)?.get(e.host)?.resolve(e);
        break;
      case 'output': {
        const p = this.#pending.get(e.id)?.get(e.host);
        if (!p) break;
        p.output.push(...e.text.replace(/\n$/, '').split('\n'));
        if (p.wrapper) p.wrapper.output = p.output.slice(-20).join('\n');
        break;
      }
      case 'command': {
        const p = this.#pending.get(e.id)?.get(e.host);
        if (p) p.output.push(c.dim(`$ ${e.command.split('\n')[0]}`));
        break;
      }
      case 'task-end':
        break;
      case 'warning':
        this.#print(c.magenta(`WARNING: ${e.message}`));
        break;
      case 'interrupted':
        for (const hosts of this.#pending.values()) {
          for (const [host, p] of hosts) p.resolve({ type: 'task-host', task: '', id: '', host, status: 'failed', durationMs: 0, msg: 'interrupted' });
        }
        this.#print(c.red(`INTERRUPTED by ${e.signal}: remote commands stopped`));
        break;
      case 'error':
        this.#print(c.red(`ERROR: ${e.message}`));
        break;
      case 'plan':
        this.#print(formatPlan(e, c).join('\n'));
        break;
      case 'profile':
        this.#profile = e.profile;
        break;
      case 'recap':
        this.#print('\n' + [...formatRecap(e.hosts, e.durationMs, c), ...formatRunRecorded(e.record, c)].join('\n'));
        if (this.#profile) this.#print('\n' + formatProfile(this.#profile, c).join('\n'));
        break;
      case 'play-end':
        break;
    }
  }

  #startTask(e: Extract<RunEvent, { type: 'task-start' }>): void {
    const hosts = new Map<string, Pending>();
    const results = new Map<string, Promise<HostEvent>>();
    for (const h of e.hosts) {
      let resolve!: (ev: HostEvent) => void;
      results.set(h, new Promise<HostEvent>((r) => (resolve = r)));
      hosts.set(h, { resolve, output: [] });
    }
    this.#pending.set(e.id, hosts);
    const title = `${e.handler ? 'HANDLER' : 'TASK'} ${e.task}`;
    this.#chain = this.#chain.then(async () => {
      // Two lists: the live one (a spinner per host, its output as it comes) is wiped when
      // every host has answered, and the summary (skips grouped by reason, counts above
      // COUNTS_ABOVE_HOSTS hosts) is what stays on the screen.
      await this.#runQuietly(this.#liveList(title, e.hosts, hosts, results));
      const settled = await Promise.all(e.hosts.map((h) => results.get(h)!));
      await this.#runQuietly(this.#summaryList(title, summarizeTask(settled, this.verbosity > 0), hosts));
      this.#pending.delete(e.id);
    });
  }

  async #runQuietly(list: Listr): Promise<void> {
    try {
      await list.run();
    } catch {
      // failures are shown in the tree and counted in the recap
    }
  }

  /** While the task runs: a subtask per host that settles when its result arrives, cleared at the end. */
  #liveList(title: string, names: string[], hosts: Map<string, Pending>, results: Map<string, Promise<HostEvent>>): Listr {
    const c = this.c;
    return new Listr(
      [
        {
          title,
          task: (_ctx, parent) =>
            parent.newListr(
              names.map((host) => ({
                title: host,
                task: async (_c: unknown, t: ListrTaskWrapper<unknown, any, any>) => {
                  hosts.get(host)!.wrapper = t;
                  const r = await results.get(host)!;
                  t.title = `${host} ${statusColor(c, r.status)(r.status)}`;
                },
                rendererOptions: { outputBar: 20 },
              })),
              { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: false } },
            ),
        },
      ],
      { exitOnError: false, registerSignalListeners: false, rendererOptions: { clearOutput: true, collapseSubtasks: false } },
    );
  }

  /** Once every host has answered: the task's lines as summarizeTask groups them. */
  #summaryList(title: string, lines: TaskLine[], hosts: Map<string, Pending>): Listr {
    const c = this.c;
    return new Listr(
      [
        {
          title,
          task: (_ctx, parent) =>
            parent.newListr(
              lines.map((line) => ({
                // Replaced by #drawLine; listr2 draws no skip line for a task whose title starts empty.
                title: line.kind,
                task: (_c: unknown, t: ListrTaskWrapper<unknown, any, any>) => this.#drawLine(line, t, hosts),
                rendererOptions: { persistentOutput: true, outputBar: Infinity },
              })),
              {
                exitOnError: false,
                // A skip is a skip: listr2's ↓ in the skip colour on its own line,
                // not its ⚠ warning sign over a second line that repeats the hosts.
                rendererOptions: {
                  collapseSubtasks: false,
                  collapseErrors: false,
                  collapseSkips: true,
                  showSkipMessage: true,
                  suffixSkips: false,
                },
              },
            ),
        },
      ],
      {
        exitOnError: false,
        registerSignalListeners: false,
        rendererOptions: {
          collapseSubtasks: false,
          collapseErrors: false,
          collapseSkips: false,
          showErrorMessage: true,
          // Icons take their colour from the top list's options only.
          color: { [ListrDefaultRendererLogLevels.SKIPPED_WITH_COLLAPSE]: (s?: string) => statusColor(c, 'skipped')(s ?? '') },
        },
      },
    );
  }

  /** One summary line: its title, its icon (by completing, skipping or failing), and what it shows under it. */
  #drawLine(line: TaskLine, t: ListrTaskWrapper<unknown, any, any>, hosts: Map<string, Pending>): void {
    const c = this.c;
    switch (line.kind) {
      case 'skipped':
        t.skip(`${statusColor(c, 'skipped')('skipped')} on ${line.hosts.join(', ')}${line.reason ? `: ${c.dim(line.reason)}` : ''}`);
        return;
      case 'counts':
        t.title = countsText(line);
        return;
      case 'diff':
        t.title = `${statusColor(c, 'changed')('changed')} on ${line.hosts.join(', ')}`;
        t.output = formatDiff(line.diff, c).join('\n');
        return;
      case 'failed':
        t.title = `${statusColor(c, line.status)(line.status)} on ${line.hosts.join(', ')}`;
        throw new Error(`${line.msg ?? line.status}${line.location ? `\n(task at ${line.location})` : ''}`);
      case 'host': {
        const r = line.result;
        const host = r.host;
        const via = r.delegatedTo ? ` -> ${r.delegatedTo}` : '';
        const label = `${host}${via} ${statusColor(c, r.status)(r.ignored ? 'failed (ignored)' : r.status)} ${c.dim(ms(r.durationMs))}`;
        const extra: string[] = [];
        if (r.diff) extra.push(...formatDiff(r.diff, c));
        if (this.verbosity > 0) extra.push(...(hosts.get(host)?.output.slice(-20) ?? []));
        if (extra.length) t.output = extra.join('\n');
        if (r.status === 'skipped') {
          // Drawn in place of the host's line (collapseSkips): the name once, no duration.
          t.skip(`${host} ${statusColor(c, 'skipped')('skipped')}${r.msg ? ` ${c.dim(r.msg)}` : ''}`);
          return;
        }
        if (r.status === 'failed' && !r.ignored) {
          t.title = label;
          throw new Error(`${r.msg ?? 'failed'}${r.location ? `\n(task at ${r.location})` : ''}`);
        }
        if (r.status === 'unreachable') {
          t.title = label;
          throw new Error(r.msg ?? 'unreachable');
        }
        t.title = `${label}${r.msg && r.status === 'changed' ? ` ${c.dim(r.msg.split('\n')[0]!)}` : ''}`;
        return;
      }
    }
  }

  async flush(): Promise<void> {
    await this.#chain;
  }
}
