import type { Play } from '../model/play.ts';
import { Block, type Item, type Task } from '../model/task.ts';
import { FLUSH_HANDLERS, type Scope } from '../model/scope.ts';

/** A list entry with the scope its variables and tags come from. */
export interface ScopedItem {
  item: Item;
  scope: Scope;
}

export function scopeOfPlay(play: Play): Scope {
  return { owner: `play "${play.name}"`, schema: play.schema, tags: new Set(play.options.tags ?? []) };
}

/** The play's list: its roles' tasks, then its own. */
export function playItems(play: Play): ScopedItem[] {
  const playScope = scopeOfPlay(play);
  return [
    ...(play.options.roles ?? []).flatMap((role) => {
      const scope: Scope = {
        owner: `role ${role.name}`,
        schema: role.defaults,
        tags: new Set([...(play.options.tags ?? []), ...role.tags, role.name]),
      };
      return role.tasks.map((item) => ({ item, scope }));
    }),
    ...play.tasks.map((item) => ({ item, scope: playScope })),
  ];
}

/** A block's own lists (block, rescue, always), in the block's scope (its tags added). */
export function blockItems(block: Block, scope: Scope): ScopedItem[] {
  const inner: Scope = { ...scope, tags: new Set([...scope.tags, ...(block.options.tags ?? [])]) };
  const o = block.options;
  return [...o.block, ...(o.rescue ?? []), ...(o.always ?? [])].map((item) => ({ item, scope: inner }));
}

/**
 * Whether --tags/--skip-tags (`selected`) leave any task of the list, blocks
 * included, to run; `withFlush`: a handler flush counts too (it runs whatever the tags).
 */
export function anySelected(items: ScopedItem[], selected: (task: Task<any>, scope: Scope) => boolean, withFlush = false): boolean {
  return items.some(({ item, scope }) => {
    if (item instanceof Block) return anySelected(blockItems(item, scope), selected, withFlush);
    return item.options.op === (FLUSH_HANDLERS as unknown) ? withFlush : selected(item, scope);
  });
}
