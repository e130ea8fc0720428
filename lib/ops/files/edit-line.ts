import { expandPythonTemplate, pythonRegExp } from './python-regex.ts';

/**
 * Ansible's lineinfile (ansible-core 2.14) as a pure function of a file's
 * text, byte for byte: lines keep their own endings, patterns are Python
 * regular expressions searched in each line with its newline attached.
 *
 * present: the last line found by `regexp` or `searchString` (the first with
 *   firstMatch) becomes `line`; else a line equal to `line` (ignoring its
 *   \r\n ending) is made to end with \n; else `line` is inserted after the
 *   last line matching `insertAfter` / before the last matching
 *   `insertBefore` (the first of either with firstMatch), at BOF, or at EOF.
 *   With backrefs, `line` is expanded from the match and nothing is
 *   inserted when no line matches.
 * absent: every line found by `regexp`, `searchString` or equal to `line`
 *   is removed.
 */
export interface LineSpec {
  line?: string | undefined;
  regexp?: string | undefined;
  searchString?: string | undefined;
  state: 'present' | 'absent';
  insertAfter?: string | undefined;
  insertBefore?: string | undefined;
  firstMatch?: boolean | undefined;
  backrefs?: boolean | undefined;
}

/** Lines with their endings, as Python's readlines(): split after each \n. */
export function readLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

const bare = (l: string) => l.replace(/[\r\n]+$/, '');
const endsLine = (l: string | undefined) => l !== undefined && /[\r\n]$/.test(l);

/** The line a regexp or search string selects, with the match for backrefs. */
function findTarget(lines: string[], spec: LineSpec): { at: number; match?: RegExpExecArray | undefined } | undefined {
  let found: { at: number; match?: RegExpExecArray } | undefined;
  const re = spec.regexp !== undefined ? pythonRegExp(spec.regexp) : undefined;
  for (let i = 0; i < lines.length; i++) {
    const m = re ? re.exec(lines[i]!) : undefined;
    const hit = re ? m !== null : spec.searchString !== undefined && lines[i]!.includes(spec.searchString);
    if (!hit) continue;
    found = { at: i, ...(m ? { match: m } : {}) };
    if (spec.firstMatch) break;
  }
  return found;
}

function present(lines: string[], spec: LineSpec): string[] {
  const line = spec.line!;
  const target = findTarget(lines, spec);
  let exact = -1;
  let insertAt = -1;
  if (!target) {
    const anchor = spec.insertAfter ?? spec.insertBefore;
    const insRe = anchor !== undefined && anchor !== 'BOF' && anchor !== 'EOF' ? pythonRegExp(anchor) : undefined;
    for (let i = 0; i < lines.length; i++) {
      if (bare(lines[i]!) === line) exact = i;
      else if (insRe?.test(lines[i]!)) {
        insertAt = spec.insertAfter !== undefined ? i + 1 : i;
        if (spec.firstMatch) break;
      }
    }
  }
  const at = target?.at ?? exact;
  if (at !== -1) {
    let wanted = spec.backrefs && target?.match ? expandPythonTemplate(line, target.match) : line;
    if (!wanted.endsWith('\n')) wanted += '\n';
    lines[at] = wanted;
    return lines;
  }
  if (spec.backrefs) return lines;
  if (spec.insertBefore === 'BOF' || spec.insertAfter === 'BOF') return [line + '\n', ...lines];
  if (spec.insertAfter === 'EOF' || insertAt === -1) {
    if (lines.length > 0 && !endsLine(lines[lines.length - 1])) lines.push('\n');
    return [...lines, line + '\n'];
  }
  // After the anchor: not again when the line already follows it.
  if (spec.insertAfter !== undefined) {
    const next = insertAt === lines.length ? lines[insertAt - 1] : lines[insertAt];
    if (bare(next!) === line) return lines;
  }
  lines.splice(insertAt, 0, line + '\n');
  return lines;
}

export function editLine(text: string, spec: LineSpec): string {
  const lines = readLines(text);
  if (spec.state === 'present') return present(lines, spec).join('');
  const re = spec.regexp !== undefined ? pythonRegExp(spec.regexp) : undefined;
  const matches = (l: string) => (re ? re.test(l) : spec.searchString !== undefined ? l.includes(spec.searchString) : bare(l) === spec.line);
  return lines.filter((l) => !matches(l)).join('');
}
