import type { Play } from '../model/play.ts';
import { Block, type Handler, type Item, type Task } from '../model/task.ts';
import { playItems } from '../runner/play-items.ts';

/**
 * Where a task sits in a playbook, stable from one run of the same source to
 * the next: the play's index, and the task's path in the play's list (the
 * roles' tasks, then the play's own; `3/block/1` is the second task of the
 * block that is the fourth item; `handlers/0` is the play's first handler).
 * Task.id is a process-wide counter and a role's task object is shared by
 * every play that uses the role, so neither can name a task in a record.
 * The name is kept beside the path, to find the task again after an edit
 * (--resume-anyway) and to show it.
 */
export interface TaskIdentity {
  play: number;
  path: string;
  name: string;
  /** Position among the play's tasks in run order (block, rescue, always), from 0; past the last task for a handler. */
  ordinal: number;
}

/** A block's identity covers its tasks: `last` is the ordinal of its last one. */
interface Located {
  identity: TaskIdentity;
  last: number;
}

/** Every task, block and handler of one play, with its identity. */
export class PlayIdentities {
  readonly #byItem = new Map<Item, Located>();
  readonly #byPath = new Map<string, Item>();
  /** Each task's outermost enclosing block with a rescue or always section (absent: none holds it). */
  readonly #cleanedUpBy = new Map<Item, Block>();
  /** Number of tasks: a handler's ordinal (it runs after them). */
  readonly taskCount: number;

  constructor(
    readonly play: Play,
    readonly index: number,
  ) {
    let ordinal = 0;
    const walk = (items: Item[], prefix: string, outer: Block | undefined) => {
      items.forEach((item, i) => {
        const path = `${prefix}${i}`;
        if (outer && !this.#cleanedUpBy.has(item)) this.#cleanedUpBy.set(item, outer);
        if (item instanceof Block) {
          const first = ordinal;
          const o = item.options;
          const inner = outer ?? ((o.rescue?.length ?? 0) > 0 || (o.always?.length ?? 0) > 0 ? item : undefined);
          walk(o.block, `${path}/block/`, inner);
          walk(o.rescue ?? [], `${path}/rescue/`, inner);
          walk(o.always ?? [], `${path}/always/`, inner);
          this.#add(item, { play: index, path, name: item.options.name ?? '(block)', ordinal: first }, ordinal - 1);
        } else {
          this.#add(item, { play: index, path, name: item.name, ordinal }, ordinal);
          ordinal++;
        }
      });
    };
    walk(
      playItems(play).map((x) => x.item),
      '',
      undefined,
    );
    this.taskCount = ordinal;
    this.handlers().forEach((h, k) => this.#add(h, { play: index, path: `handlers/${k}`, name: h.name, ordinal }, ordinal));
    // A handler that only a task's notify names (made beside the tasks) is named by its name, as Ansible names handlers.
    for (const item of [...this.#byItem.keys()]) {
      for (const h of item instanceof Block ? [] : (item.options.notify ?? [])) {
        if (!this.#byItem.has(h)) this.#add(h, { play: index, path: `handlers/name:${h.name}`, name: h.name, ordinal }, ordinal);
      }
    }
  }

  #add(item: Item, identity: TaskIdentity, last: number): void {
    // A role used twice in one play shares its task objects: the first place names them.
    if (!this.#byItem.has(item)) this.#byItem.set(item, { identity, last });
    this.#byPath.set(identity.path, item);
  }

  /** The play's handlers in the order they run: its roles', then its own. */
  handlers(): Handler<any, any>[] {
    const o = this.play.options;
    return [...(o.roles ?? []).flatMap((r) => r.handlers), ...(o.handlers ?? [])];
  }

  /** The identity of an item of this play (one that is not in it is named by its kind, and never found again). */
  of(item: Item): TaskIdentity {
    const found = this.#byItem.get(item);
    if (found) return found.identity;
    return { play: this.index, path: `unknown:${item.kind}`, name: item.kind === 'task' ? item.name : (item.options.name ?? '(block)'), ordinal: this.taskCount };
  }

  /** The ordinal of the last task an item covers (itself for a task, its last inner task for a block). */
  lastOrdinal(item: Item): number {
    return this.#byItem.get(item)?.last ?? this.taskCount;
  }

  /**
   * Where a host that stopped at this item starts again: the item itself,
   * unless a block with a rescue or always section holds it. That section
   * ran after the failure and may have undone what the block's body had
   * done (a rescue that rolls back, an always that cleans up), so the
   * outermost such block runs again from its start, its `when` evaluated
   * again, and its rescue runs again if the body fails again.
   */
  resumeOrdinal(item: Item): number {
    const outer = this.#cleanedUpBy.get(item);
    return this.of(outer ?? item).ordinal;
  }

  /**
   * The item a recorded identity names: the same path with the same name;
   * else, after an edit, the one task or handler of that name in the play.
   */
  find(identity: Pick<TaskIdentity, 'path' | 'name'>): Item | undefined {
    const same = this.#byPath.get(identity.path);
    if (same && nameOf(same) === identity.name) return same;
    const named = [...this.#byItem.keys()].filter((i) => nameOf(i) === identity.name);
    return named.length === 1 ? named[0] : undefined;
  }

  /** Every task and handler of the play (blocks left out), with its identity. */
  tasks(): [Task<any>, TaskIdentity][] {
    return [...this.#byItem].filter(([item]) => !(item instanceof Block)).map(([item, l]) => [item as Task<any>, l.identity]);
  }
}

function nameOf(item: Item): string {
  return item instanceof Block ? (item.options.name ?? '(block)') : item.name;
}

/** One {@link PlayIdentities} per play of the playbook. */
export function identitiesOf(plays: Play[]): PlayIdentities[] {
  return plays.map((play, i) => new PlayIdentities(play, i));
}
