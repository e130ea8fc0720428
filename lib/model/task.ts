import { callSite, type SourceLocation } from '../shell/location.ts';
import type { HostContext } from './host-context.ts';
import type { Op } from './op.ts';
import type { TaskRef } from './task-ref.ts';

/** A list item of a play or role: a task, or a block of tasks with rescue and always. */
export type Item<V = any> = Task<any, V> | Block<V>;

export interface TaskOptions<V, R> {
  name: string;
  /** The op, or a function of the host that builds it (for parameters taken from vars or results). */
  op: Op<R, any> | ((h: HostContext<V>) => Op<R, any>);
  when?: (h: HostContext<V>) => boolean;
  /** Why the task is skipped when `when` is false, shown instead of the condition's source. */
  whenReason?: string | ((h: HostContext<V>) => string);
  tags?: string[];
  notify?: Handler<any, any>[];
  /** Re-run the task until `until` holds, at most `retries` more times, `delaySeconds` apart. */
  retries?: number | ((h: HostContext<V>) => number);
  delaySeconds?: number | ((h: HostContext<V>) => number);
  until?: (result: R, h: HostContext<V>) => boolean;
  /**
   * Stop retrying before `retries` runs out: the result will not get better
   * (the health role gives up once every unhealthy service is past its window).
   * Given the attempts made so far and the seconds since the first began;
   * the result is undefined when the attempt failed without one.
   */
  giveUpWhen?: (result: R | undefined, h: HostContext<V>, progress: { attempts: number; elapsedSeconds: number }) => boolean;
  ignoreErrors?: boolean;
  /** Run on the first host of the batch only; every host sees its result. */
  runOnce?: boolean;
  /** Run the op on another inventory host, with this host's variables. */
  delegateTo?: string | ((h: HostContext<V>) => string);
  become?: boolean;
  becomeUser?: string;
  changedWhen?: (result: R, h: HostContext<V>) => boolean;
  failedWhen?: (result: R, h: HostContext<V>) => boolean;
}

let nextId = 0;

export class Task<R = unknown, V = any> implements TaskRef<R> {
  readonly kind = 'task' as const;
  readonly id = `t${++nextId}`;
  /** Phantom field so Task<R> keeps R for result(). */
  declare readonly __result?: R;
  constructor(
    readonly options: TaskOptions<V, R>,
    readonly location: SourceLocation | undefined,
  ) {}
  get name(): string {
    return this.options.name;
  }
}

export class Handler<R = unknown, V = any> extends Task<R, V> {
  readonly isHandler = true;
}

export interface BlockOptions<V> {
  name?: string;
  block: Item<V>[];
  rescue?: Item<V>[];
  always?: Item<V>[];
  when?: (h: HostContext<V>) => boolean;
  tags?: string[];
}

let nextBlockId = 0;

export class Block<V = any> {
  readonly kind = 'block' as const;
  /** Names the block's own events (its `when`), apart from every task's id. */
  readonly id = `b${++nextBlockId}`;
  constructor(
    readonly options: BlockOptions<V>,
    readonly location: SourceLocation | undefined,
  ) {}
}

/** Builders bound to a variable type, handed to role and play definitions. */
export interface Builders<V> {
  task<R>(options: TaskOptions<V, R>): Task<R, V>;
  handler<R>(options: TaskOptions<V, R>): Handler<R, V>;
  block(options: BlockOptions<V>): Block<V>;
}

export function builders<V>(): Builders<V> {
  return {
    task: (options) => new Task(options, callSite()),
    handler: (options) => new Handler(options, callSite()),
    block: (options) => new Block(options, callSite()),
  };
}

/** Untyped builders for playbooks that do not declare variables. */
export const task = <R>(options: TaskOptions<Record<string, unknown>, R>) => new Task(options, callSite());
export const handler = <R>(options: TaskOptions<Record<string, unknown>, R>) => new Handler(options, callSite());
export const block = (options: BlockOptions<Record<string, unknown>>) => new Block(options, callSite());
