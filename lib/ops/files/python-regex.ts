/**
 * Regular expressions as Ansible users write them: Python's `re` syntax,
 * translated to a JavaScript RegExp that matches the same lines.
 *
 * Ansible compiles the pattern as bytes and searches each line with its
 * newline still attached, so `$` (without `(?m)`) matches at the end or
 * before a final newline, and `\w`, `\d`, `\s` are ASCII classes (as they
 * are in a JavaScript RegExp without the `u` flag, which is why none is set).
 * Forms with no JavaScript equivalent are refused with what to write instead.
 */
export class PythonRegexError extends Error {}

const REFUSED: [RegExp, string][] = [
  [/^\(\?\(/, 'conditional groups (?(id)yes|no) have no JavaScript form; write two tasks or an alternation'],
  [/^\(\?>/, 'atomic groups (?>...) have no JavaScript form; write the group without ?>'],
  [/^\(\?[aiLmsux]*-?[imsx]*:/, 'scoped inline flags (?i:...) are not available in this Node.js; put the flag at the start of the pattern, e.g. (?i)'],
];

/** Consumes the Python inline-flag group at the start: `(?im)`. */
function leadingFlags(src: string): { flags: Set<string>; rest: string } {
  const flags = new Set<string>();
  let rest = src;
  for (let m = /^\(\?([aiLmsux]+)\)/.exec(rest); m; m = /^\(\?([aiLmsux]+)\)/.exec(rest)) {
    for (const f of m[1]!) flags.add(f);
    rest = rest.slice(m[0].length);
  }
  if (flags.has('L')) throw new PythonRegexError('the locale flag (?L) has no JavaScript form; remove it');
  return { flags, rest };
}

/** Drops the whitespace and # comments that verbose mode (?x) ignores, outside classes and escapes. */
function stripVerbose(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      out += c + (src[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

export interface TranslatedRegex {
  source: string;
  flags: string;
  /** Python's MULTILINE flag, which blockinfile uses to search the whole file. */
  multiline: boolean;
}

export function translatePythonRegex(pattern: string): TranslatedRegex {
  const { flags, rest } = leadingFlags(pattern);
  const body = flags.has('x') ? stripVerbose(rest) : rest;
  const multiline = flags.has('m');
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    const tail = body.slice(i);
    if (c === '\\') {
      const n = body[i + 1];
      if (n === undefined) throw new PythonRegexError('the pattern ends with a lone backslash');
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'Z') out += '(?![\\s\\S])';
      else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']' && !/\[\^?$/.test(out)) inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '(' && tail.startsWith('(?')) {
      for (const [re, why] of REFUSED) if (re.test(tail)) throw new PythonRegexError(why);
      const named = /^\(\?P<([A-Za-z_]\w*)>/.exec(tail);
      const backref = /^\(\?P=([A-Za-z_]\w*)\)/.exec(tail);
      const comment = /^\(\?#[^)]*\)/.exec(tail);
      if (/^\(\?[aiLmsux]+\)/.test(tail)) throw new PythonRegexError('inline flags such as (?i) must be at the start of the pattern, as Python 3.11 requires');
      if (named) {
        out += `(?<${named[1]}>`;
        i += named[0].length - 1;
      } else if (backref) {
        out += `\\k<${backref[1]}>`;
        i += backref[0].length - 1;
      } else if (comment) {
        i += comment[0].length - 1;
      } else out += c;
      continue;
    }
    if ((c === '*' || c === '+' || c === '?' || c === '}') && body[i + 1] === '+' && out !== '') {
      throw new PythonRegexError(`possessive quantifiers (${c}+) have no JavaScript form; write ${c} alone`);
    }
    // Python reads {,n} as {0,n}; JavaScript would read it as literal text.
    const openMin = /^\{,(\d+)\}/.exec(tail);
    if (openMin) {
      out += `{0,${openMin[1]}}`;
      i += openMin[0].length - 1;
      continue;
    }
    // Without MULTILINE, Python's $ also matches just before a final newline.
    if (c === '$' && !multiline) {
      out += '(?=\\n?$)';
      continue;
    }
    out += c;
  }
  const jsFlags = [...flags].filter((f) => f === 'i' || f === 'm' || f === 's').join('');
  try {
    new RegExp(out, jsFlags);
  } catch (err) {
    throw new PythonRegexError((err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, ''));
  }
  return { source: out, flags: jsFlags, multiline };
}

export function pythonRegExp(pattern: string): RegExp {
  const t = translatePythonRegex(pattern);
  return new RegExp(t.source, t.flags);
}

/** Why a pattern cannot be used, or undefined: for schema checks. */
export function pythonRegexProblem(pattern: string): string | undefined {
  try {
    translatePythonRegex(pattern);
    return undefined;
  } catch (err) {
    return `not a usable regular expression (${(err as Error).message})`;
  }
}

/**
 * Python's match.expand for lineinfile's backrefs: \1..\99, \g<1>, \g<name>,
 * and the escapes \n, \t, \\. An unmatched group expands to nothing.
 */
export function expandPythonTemplate(template: string, m: RegExpExecArray): string {
  return template.replace(/\\(?:g<([^>]+)>|(\d{1,2})|(.))/gs, (whole, g: string | undefined, num: string | undefined, esc: string | undefined) => {
    if (g !== undefined) return (/^\d+$/.test(g) ? m[Number(g)] : m.groups?.[g]) ?? '';
    if (num !== undefined) return m[Number(num)] ?? '';
    const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', a: '\x07', f: '\f', v: '\v', b: '\b' };
    return escapes[esc!] ?? whole;
  });
}
