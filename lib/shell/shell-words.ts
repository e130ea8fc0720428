/**
 * Splitting a command line into words as Python's shlex.split does (POSIX
 * mode): whitespace separates words, '...' keeps everything literal, "..."
 * keeps everything but a backslash before " \ $ or `, and a backslash
 * outside quotes escapes the next character. Nothing is expanded: no
 * variables, no globs, no command substitution. With `comments`, a # outside
 * quotes ends the line, as shlex.split(line, comments=True).
 *
 * Returns the words, or shlex's message when the line cannot be split.
 */
export function splitWords(line: string, comments: boolean): string[] | string {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && comments) {
      // shlex ends the line at # outside quotes, even inside a word.
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return 'No closing quotation';
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && /["\\$`]/.test(line[j + 1] ?? '')) j++;
        text += line[j];
      }
      if (j >= line.length) return 'No closing quotation';
      word = (word ?? '') + text;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return 'No escaped character';
      word = (word ?? '') + line[++i];
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}
