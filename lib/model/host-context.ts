import type { Fact } from './fact.ts';
import type { OpStatus } from './op.ts';
import type { TaskRef } from './task-ref.ts';

/**
 * What task functions (`when`, op factories, `until`) see for one host.
 * They must be pure and cheap: the runner evaluates them ahead of time to
 * batch state reads, and again when the task really runs.
 */
export interface HostContext<V = Record<string, unknown>> {
  /** The inventory name of the host. */
  readonly name: string;
  /** Variables, typed by the role's or play's schema. */
  readonly vars: V;
  /** Every variable of the host after precedence, untyped. */
  readonly allVars: Readonly<Record<string, unknown>>;
  readonly groups: readonly string[];
  readonly check: boolean;
  /** A fact of this host, gathered on first use. */
  fact<F>(fact: Fact<F>): F;
  /** The result a task registered on this host, or undefined when it was skipped or only checked. */
  result<R>(task: TaskRef<R>): R | undefined;
  status(task: TaskRef<any>): OpStatus | undefined;
  /** What a task said on this host: why it failed or was skipped, what it changed. */
  message(task: TaskRef<any>): string | undefined;
  /** The result a task registered on another host (e.g. a token read on the manager). */
  resultOf<R>(host: string, task: TaskRef<R>): R | undefined;
  /** Another host's variables. */
  hostVars(host: string): Readonly<Record<string, unknown>>;
  /** Hosts of a group, in inventory order. */
  groupHosts(group: string): readonly string[];
}

/** Thrown while a task's functions are evaluated early, when something they need is not there yet. */
export class NotReady extends Error {
  constructor(readonly need: { fact?: Fact<unknown>; task?: TaskRef<unknown> }) {
    super('not ready');
  }
}
