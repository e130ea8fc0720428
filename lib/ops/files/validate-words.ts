import { quote } from '../../shell/quote.ts';
import { splitWords } from '../../shell/shell-words.ts';

/**
 * A validate command as the file writer runs it: split into words first
 * (shlex's rules, as Ansible splits it), then `%s` in any word stands for the
 * temp file's path, which stays inside that one word whatever it holds
 * (spaces, quotes, `;`, a newline). The result is shell text for
 * `eval "set -- ..."` on the host: every word single-quoted by the quoting
 * helper, each `%s` replaced by `"$rigger_t"` (the writer's variable holding
 * the path), so the eval only makes words; the writer then execs them with
 * no shell between. Ansible puts the path in before splitting, so a path
 * with a space breaks there.
 */
export function validateWords(validate: string): string {
  const words = splitWords(validate, false);
  if (typeof words === 'string') throw new TypeError(`validate ${JSON.stringify(validate)}: ${words}`);
  if (words.length === 0) throw new TypeError(`validate ${JSON.stringify(validate)}: no command`);
  return words.map((w) => w.split('%s').map((part) => quote(part).toString('utf8')).join('"$rigger_t"')).join(' ');
}

/**
 * A validate command that needs a shell (pipes, redirections, several
 * commands): `script` runs under `sh -c` with the temp file's path as `$1`,
 * never pasted into the script's text. The script must hold no `%s`.
 */
export function validateWithShell(script: string): string {
  if (script.includes('%s')) throw new TypeError(`validate script ${JSON.stringify(script)}: use "$1" for the temp file, not %s`);
  return `sh -c ${quote(script).toString('utf8')} rigger-validate %s`;
}
