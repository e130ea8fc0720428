import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { expandPythonTemplate, pythonRegExp, pythonRegexProblem } from '../../lib/ops/files/python-regex.ts';

/**
 * Patterns in Python's syntax against lines as lineinfile sees them (with
 * their newline). The expected answers come from Python's own `re` on this
 * machine, so a translation that drifts from Python fails here.
 */
const CASES: [string, string][] = [
  ['^(?P<k>\\w+)=(?P=k)$', 'name=name\n'],
  ['^(?P<k>\\w+)=(?P=k)$', 'name=other\n'],
  ['(?i)^permitrootlogin', 'PermitRootLogin yes\n'],
  ['last\\Z', 'last'],
  ['last\\Z', 'last\n'],
  ['\\Aa', 'a\n'],
  ['\\Aa', 'xa\n'],
  ['=1$', 'key=1\n'],
  ['=1$', 'key=12\n'],
  ['(?m)^two$', 'two\n'],
  ['(?x) ^ Max \\s+ \\d+  # the limit', 'Max 10\n'],
  ['^a{,2}=', 'aa=1\n'],
  ['^a{,2}=', 'aaa=1\n'],
  ['a(?#a comment)b', 'ab\n'],
  ['(?s)a.b', 'a\nb'],
  ['[$]', 'cost $5\n'],
  ['\\w+$', 'héllo\n'],
];

test('Python patterns match the lines Python matches', () => {
  const script = 'import re,sys,json\nfor p,l in json.loads(sys.stdin.read()): print(1 if re.search(p.encode(), l.encode()) else 0)';
  const python = execFileSync('python3', ['-c', script], { input: JSON.stringify(CASES) }).toString().trim().split('\n');
  CASES.forEach(([pattern, line], i) => {
    assert.equal(pythonRegExp(pattern).test(line) ? '1' : '0', python[i], `${pattern} on ${JSON.stringify(line)}`);
  });
});

test('untranslatable Python forms are refused with what to write instead', () => {
  assert.match(pythonRegexProblem('(?(1)a|b)')!, /conditional groups .* write two tasks or an alternation/);
  assert.match(pythonRegexProblem('(?>ab)')!, /atomic groups .* write the group without/);
  assert.match(pythonRegexProblem('a++')!, /possessive .* write \+ alone/);
  assert.match(pythonRegexProblem('(?i:a)b')!, /put the flag at the start/);
  assert.match(pythonRegexProblem('a(?i)b')!, /must be at the start/);
  assert.match(pythonRegexProblem('(?L)a')!, /locale flag/);
  assert.match(pythonRegexProblem('(')!, /not a usable regular expression/);
  assert.equal(pythonRegexProblem('^(?P<n>a)(?P=n)\\Z'), undefined);
});

test('backrefs expand like Python match.expand', () => {
  const m = pythonRegExp('^(?P<key>\\w+) = (\\d+)$').exec('port = 22\n')!;
  assert.equal(expandPythonTemplate('\\g<key>=\\2\\g<2>', m), 'port=2222');
  assert.equal(expandPythonTemplate('\\1\\t\\\\', m), 'port\t\\');
});
