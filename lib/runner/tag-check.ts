import type { Play } from '../model/play.ts';
import { Block, type Item } from '../model/task.ts';
import { selectedByTags } from './tags.ts';

/** Tag names with a meaning of their own in --tags (Ansible's). */
const SPECIAL = new Set(['all', 'tagged', 'untagged', 'always', 'never']);

/** Every task's tags as the runner sees them: play, role (and its name), blocks, the task's own. */
function taskTagSets(plays: readonly Play[]): Set<string>[] {
  const out: Set<string>[] = [];
  const walk = (items: readonly Item[], inherited: readonly string[]) => {
    for (const item of items) {
      if (item instanceof Block) {
        const tags = [...inherited, ...(item.options.tags ?? [])];
        for (const list of [item.options.block, item.options.rescue ?? [], item.options.always ?? []]) walk(list, tags);
      } else out.push(new Set([...inherited, ...(item.options.tags ?? [])]));
    }
  };
  for (const play of plays) {
    const playTags = play.options.tags ?? [];
    for (const role of play.options.roles ?? []) walk(role.tasks, [...playTags, ...role.tags, role.name]);
    walk(play.tasks, playTags);
  }
  return out;
}

/**
 * A warning when --tags or --skip-tags names a tag no task has (a typo runs
 * nothing, or skips nothing, and exits 0 otherwise), with the tags the
 * playbook does have.
 */
export function unmatchedTagsWarning(plays: readonly Play[], tags: readonly string[], skipTags: readonly string[]): string | undefined {
  if (tags.length === 0 && skipTags.length === 0) return undefined;
  const sets = taskTagSets(plays);
  const known = new Set(sets.flatMap((s) => [...s]));
  const unknown = (list: readonly string[]) => list.filter((t) => !SPECIAL.has(t) && !known.has(t));
  const problems: string[] = [];
  const badTags = unknown(tags);
  const badSkips = unknown(skipTags);
  if (badTags.length > 0) problems.push(`--tags ${badTags.join(',')}: no task has ${badTags.length > 1 ? 'these tags' : 'this tag'}`);
  if (badSkips.length > 0) problems.push(`--skip-tags ${badSkips.join(',')}: no task has ${badSkips.length > 1 ? 'these tags' : 'this tag'}`);
  const nothing = !sets.some((s) => selectedByTags(s, tags, skipTags));
  if (nothing) problems.push('no task is selected, nothing will run');
  if (problems.length === 0) return undefined;
  const have = [...known].sort();
  return `${problems.join('; ')} (the playbook's tags: ${have.length > 0 ? have.join(', ') : 'none'})`;
}
