/** One line of /etc/fstab, compared field by field. */
export interface FstabEntry {
  src: string;
  path: string;
  fstype: string;
  opts: string;
  dump: number;
  passno: number;
}

/** fstab escapes spaces and tabs as octal (\040). */
const escape = (s: string) => s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011');
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function formatEntry(e: FstabEntry): string {
  return [escape(e.src), escape(e.path), e.fstype, e.opts, e.dump, e.passno].join('\t');
}

export function parseEntry(line: string): FstabEntry | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  const f = t.split(/\s+/);
  if (f.length < 3) return undefined;
  return { src: unescape(f[0]!), path: unescape(f[1]!), fstype: f[2]!, opts: f[3] ?? 'defaults', dump: Number(f[4] ?? 0), passno: Number(f[5] ?? 0) };
}

export function findEntry(text: string, path: string): FstabEntry | undefined {
  let found: FstabEntry | undefined;
  for (const line of text.split('\n')) {
    const e = parseEntry(line);
    if (e && e.path === path) found = e;
  }
  return found;
}

export function sameEntry(a: FstabEntry, b: FstabEntry): boolean {
  return a.src === b.src && a.path === b.path && a.fstype === b.fstype && a.opts === b.opts && a.dump === b.dump && a.passno === b.passno;
}

/** fstab with the entry for `path` replaced (or appended), or removed when entry is undefined. */
export function setEntry(text: string, path: string, entry: FstabEntry | undefined): string {
  const out: string[] = [];
  let placed = false;
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const e = parseEntry(line);
    if (e && e.path === path) {
      if (entry && !placed) out.push(formatEntry(entry));
      placed = true;
      continue;
    }
    if (line !== '' || out.length > 0) out.push(line);
  }
  if (entry && !placed) out.push(formatEntry(entry));
  return out.length ? out.join('\n') + '\n' : '';
}
