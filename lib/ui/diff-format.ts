import { createRequire } from 'node:module';
import type { ChalkInstance } from 'chalk';
import { jsonChanges, type Diff } from '../shell/diff.ts';

// Loaded on the first text diff: most runs print none, and every module a
// run loads at start is paid on every run (benchmarks, docs/benchmarks.md).
let diffLib: typeof import('diff') | undefined;
const loadDiff = () => (diffLib ??= createRequire(import.meta.url)('diff') as typeof import('diff'));

/** A change as lines: a unified diff for text, one line per changed path for JSON. */
export function formatDiff(d: Diff, c: ChalkInstance): string[] {
  if (d.kind === 'summary') return d.lines.map((l) => c.yellow(l));
  if (d.kind === 'json') {
    return [
      `--- ${d.path}`,
      ...jsonChanges(d.before, d.after).map((ch) => {
        if (ch.op === 'add') return c.green(`+ ${ch.path}: ${JSON.stringify(ch.after)}`);
        if (ch.op === 'remove') return c.red(`- ${ch.path}: ${JSON.stringify(ch.before)}`);
        return c.yellow(`~ ${ch.path}: ${JSON.stringify(ch.before)} -> ${JSON.stringify(ch.after)}`);
      }),
    ];
  }
  const patch = loadDiff().createTwoFilesPatch(`${d.path} (before)`, `${d.path} (after)`, d.before, d.after, undefined, undefined, { context: 3 });
  return patch
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('====='))
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? c.green(l) : l.startsWith('-') && !l.startsWith('---') ? c.red(l) : l.startsWith('@@') ? c.cyan(l) : l));
}
