import type { Fact } from '../model/fact.ts';
import { NotReady, type HostContext } from '../model/host-context.ts';
import type { OpStatus } from '../model/op.ts';
import type { Task } from '../model/task.ts';
import type { HostSession } from './host-session.ts';

export interface ContextSources {
  session: HostSession;
  vars: Record<string, unknown>;
  allVars: Record<string, unknown>;
  groups: string[];
  check: boolean;
  sessionOf(host: string): HostSession | undefined;
  hostVars(host: string): Record<string, unknown>;
  groupHosts(group: string): string[];
}

/**
 * A HostContext over a session. In speculative mode (evaluating tasks ahead
 * to batch their probes) anything not known yet throws NotReady instead of
 * answering wrongly.
 */
export function makeHostContext<V>(src: ContextSources, speculative: boolean): HostContext<V> {
  const { session } = src;
  return {
    name: session.name,
    vars: src.vars as V,
    allVars: src.allVars,
    groups: src.groups,
    check: src.check,
    fact<F>(fact: Fact<F>): F {
      if (!session.facts.has(fact as Fact<unknown>)) throw new NotReady({ fact: fact as Fact<unknown> });
      return session.facts.get(fact as Fact<unknown>) as F;
    },
    result<R>(task: Task<R>): R | undefined {
      const r = session.results.get(task as Task<unknown>);
      if (!r && speculative) throw new NotReady({ task: task as Task<unknown> });
      return r?.result as R | undefined;
    },
    status(task: Task<any>): OpStatus | undefined {
      const r = session.results.get(task);
      if (!r && speculative) throw new NotReady({ task });
      return r?.status;
    },
    message(task: Task<any>): string | undefined {
      const r = session.results.get(task);
      if (!r && speculative) throw new NotReady({ task });
      return r?.msg;
    },
    resultOf<R>(host: string, task: Task<R>): R | undefined {
      const r = src.sessionOf(host)?.results.get(task as Task<unknown>);
      if (!r && speculative) throw new NotReady({ task: task as Task<unknown> });
      return r?.result as R | undefined;
    },
    hostVars: (host) => src.hostVars(host),
    groupHosts: (group) => src.groupHosts(group),
  };
}
