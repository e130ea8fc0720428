/**
 * 200 strings chosen to break naive quoting: both quote kinds, command
 * substitution, backticks, separators, pipes, newlines, globs, leading
 * dashes, non-UTF-8 bytes and the empty string; every one that could run a
 * command tries to create the canary file.
 */
export function hostileStrings(canary: string): Buffer[] {
  const touch = `touch ${canary}`;
  const base = [
    '', ' ', '  leading and trailing  ', "'", "''", '"', '""', `'"'"'`, '\\', '\\\\', '\\n', '\n', '\r\n', '\t',
    `$(${touch})`, `\`${touch}\``, `; ${touch}`, `| ${touch}`, `& ${touch}`, `&& ${touch}`, `|| ${touch}`,
    `\n${touch}\n`, `'; ${touch}; '`, `"; ${touch}; "`, `$(${touch})'`, `'$(${touch})'`, `"$(${touch})"`,
    `\\'; ${touch}; echo \\'`, `> ${canary}`, `>> ${canary}`, `< /etc/passwd`, `$((1+1))`, '${HOME}', '$HOME', '$0', '$@', '$*', '$#', '$?', '$$', '$!',
    '*', '?', '[a-z]', '/*', '~', '~root', '{a,b}', '-n', '-e', '--', '-', '--help', '-rf /', '!', '!!', '#comment', '%s%s%s', '%n',
    'a b c', "it's", 'say "hi"', 'tab\there', 'nul-free\u0001\u0002\u001b[31mansi', 'é', '日本語', '🙂', 'ẞ\u200b\u202e',
    `x=1 ${touch}`, `IFS=x; ${touch}`, `eval ${touch}`, `exec ${touch}`, `$'\\x41'`, `'\\''`, `'\\\\''`,
  ].map((s) => Buffer.from(s, 'utf8'));
  const raw = [
    [0xff], [0xfe, 0xff], [0x80], [0xc3], [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80],
    [0x27, 0xff, 0x27], [0x24, 0x28, 0xff, 0x29], [0x0a, 0xff, 0x0a], [0x60, 0x80, 0x60],
  ].map((b) => Buffer.from(b));
  const out = [...base, ...raw];
  // Deterministic mixtures of the dangerous pieces, including random bytes (no NUL: argv cannot carry it).
  let seed = 42;
  const next = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
  const pieces = ["'", '"', '`', '$(', ')', ';', '|', '&', '\n', '*', '\\', '-', ' ', touch, '$IFS', '{', '}'];
  while (out.length < 200) {
    const parts: Buffer[] = [];
    const n = 1 + (next() % 6);
    for (let i = 0; i < n; i++) {
      if (next() % 4 === 0) parts.push(Buffer.from([1 + (next() % 255)]));
      else parts.push(Buffer.from(pieces[next() % pieces.length]!, 'utf8'));
    }
    out.push(Buffer.concat(parts));
  }
  return out;
}
