/**
 * Ansible's tag selection: with --tags, a task runs when it carries one of
 * them (or `always`); --skip-tags wins over both; `never` tasks run only
 * when asked for by one of their other tags or by `never` itself.
 */
export function selectedByTags(taskTags: ReadonlySet<string>, tags: readonly string[], skipTags: readonly string[]): boolean {
  if (skipTags.some((t) => taskTags.has(t) || t === 'all')) return false;
  const wanted = tags.length === 0 ? ['all'] : tags;
  const explicitly = wanted.some((t) => t !== 'all' && taskTags.has(t));
  if (taskTags.has('never') && !explicitly) return false;
  if (taskTags.has('always')) return true;
  if (wanted.includes('all')) return true;
  if (wanted.includes('tagged') && taskTags.size > 0) return true;
  if (wanted.includes('untagged') && taskTags.size === 0) return true;
  return explicitly;
}
