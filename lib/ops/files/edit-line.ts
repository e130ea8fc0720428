/**
 * Ansible's lineinfile as a pure function of a file's text.
 * present: the last line matching `regexp` (the first with firstMatch) is
 *   replaced by `line`; without a match, when `line` is not already there,
 *   it is inserted after the last line matching `insertAfter` (or EOF), or
 *   before the first line matching `insertBefore` (or BOF).
 * absent: every line matching `regexp` (or equal to `line`) is removed.
 */
export interface LineSpec {
  line?: string | undefined;
  regexp?: string | undefined;
  state: 'present' | 'absent';
  insertAfter?: string | undefined;
  insertBefore?: string | undefined;
  firstMatch?: boolean | undefined;
}

function splitLines(text: string): { lines: string[]; trailingNewline: boolean } {
  if (text === '') return { lines: [], trailingNewline: true };
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  return { lines, trailingNewline };
}

function join(lines: string[], trailingNewline: boolean): string {
  if (lines.length === 0) return '';
  return lines.join('\n') + (trailingNewline ? '\n' : '');
}

export function editLine(text: string, spec: LineSpec): string {
  const { lines, trailingNewline } = splitLines(text);
  const re = spec.regexp !== undefined ? new RegExp(spec.regexp) : undefined;
  const matches = (l: string) => (re ? re.test(l) : l === spec.line);
  if (spec.state === 'absent') return join(lines.filter((l) => !matches(l)), trailingNewline);
  const line = spec.line!;
  if (re) {
    const idx = lines.map((l, i) => (re.test(l) ? i : -1)).filter((i) => i >= 0);
    if (idx.length > 0) {
      const at = spec.firstMatch ? idx[0]! : idx[idx.length - 1]!;
      lines[at] = line;
      return join(lines, trailingNewline || lines.length === 1);
    }
  }
  if (lines.includes(line)) return join(lines, trailingNewline);
  let at = lines.length;
  if (spec.insertBefore !== undefined) {
    if (spec.insertBefore === 'BOF') at = 0;
    else {
      const r = new RegExp(spec.insertBefore);
      const found = lines.findIndex((l) => r.test(l));
      if (found >= 0) at = found;
    }
  } else if (spec.insertAfter !== undefined && spec.insertAfter !== 'EOF') {
    const r = new RegExp(spec.insertAfter);
    let last = -1;
    lines.forEach((l, i) => {
      if (r.test(l)) last = i;
    });
    if (last >= 0) at = last + 1;
  }
  lines.splice(at, 0, line);
  // A line added to a file always ends with a newline, as editors and Ansible do.
  return join(lines, true);
}
