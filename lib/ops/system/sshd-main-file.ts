/**
 * Reading and editing sshd's main configuration file, for the sshdConfig op.
 * sshd takes the first value it reads for most keywords, and a `Match` line
 * starts a block that lasts to the end of the file: settings meant for every
 * connection belong before the first `Match`. Keywords are case-insensitive
 * (sshd_config(5)).
 */

const keywordOf = (line: string): string | undefined => /^\s*([A-Za-z][A-Za-z0-9]*)(?:\s|=|$)/.exec(line)?.[1]?.toLowerCase();

/** The index of the first `Match` line, or the line count: the lines before it apply to every connection. */
function globalEnd(lines: readonly string[]): number {
  const i = lines.findIndex((l) => keywordOf(l) === 'match');
  return i < 0 ? lines.length : i;
}

/** A glob(7) pattern as sshd's Include reads it: `*` and `?` within one path segment, `[...]` classes. */
function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        const body = pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/**
 * Whether the main file's global section includes `file`: an `Include` whose
 * pattern matches it (a relative pattern is under /etc/ssh, as sshd reads it).
 * Without one, sshd never reads a drop-in, however it is named.
 */
export function mainIncludes(mainText: string, file: string): boolean {
  const lines = mainText.split('\n');
  return lines
    .slice(0, globalEnd(lines))
    .filter((l) => keywordOf(l) === 'include')
    .flatMap((l) => l.trim().split(/\s+/).slice(1))
    .some((p) => globToRegExp(p.startsWith('/') ? p : `/etc/ssh/${p}`).test(file));
}

/**
 * The main file with each setting in its global section: a keyword's first
 * line there is replaced by the setting's line(s), its other lines there are
 * removed (sshd would read the first, or add Port and ListenAddress lines
 * up), and a keyword not there is added just before the first `Match`.
 * Comments, other keywords and Match blocks stay as they were.
 */
export function withGlobalSettings(mainText: string, settings: Record<string, readonly string[]>): string {
  const lines = mainText.replace(/\n$/, '').split('\n');
  const end = globalEnd(lines);
  const wanted = new Map(Object.entries(settings).map(([k, v]) => [k.toLowerCase(), v]));
  const head: string[] = [];
  for (const line of lines.slice(0, end)) {
    const k = keywordOf(line);
    const values = k === undefined ? undefined : wanted.get(k);
    if (values === undefined) head.push(line);
    else if (values.length) {
      head.push(...values);
      wanted.set(k!, []);
    }
  }
  const added = [...wanted.values()].flat();
  // Before a Match block, a blank line keeps the block visibly apart from what is added above it.
  const tail = lines.slice(end);
  const gap = added.length && tail.length && head.at(-1) !== '' ? [''] : [];
  const withAdded = added.length && tail.length && head.at(-1) === '' ? [...head.slice(0, -1), ...added, ''] : [...head, ...added, ...gap];
  return [...withAdded, ...tail].join('\n') + '\n';
}
