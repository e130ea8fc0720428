import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { pythonLiteral } from '../../lib/inventory/python-literal.ts';
import { shellWords } from '../../lib/inventory/ini-inventory.ts';

/**
 * INI inventory values are typed by Python's ast.literal_eval in Ansible;
 * each text here is read by Python on this machine and by rigger, and the
 * two must agree (a text that is not a literal stays text).
 */
const TEXTS = [
  '1', '-3', '+4', '0', '007', '0x1f', '0o17', '0b101', '1_000', '1.5', '.5', '5.', '1e3', '-2.5e-1', '1j',
  'True', 'False', 'None', 'true', 'yes', 'no', 'null',
  "'quoted'", '"double"', "'a' 'b'", '"esc\\tape"', "r'raw\\n'", '"unterminated',
  '[]', '[1, 2]', '[1, [2, "x"]]', '(1, 2)', '()', '(1,)', '{}', "{'k': 1}", '{"a": [1, {"b": None}]}', '{1, 2}', '[1, 2,]',
  '/usr/bin/python3', 'a b', '{{ var }}', '1.2.3.4', '12:30', '-', '', '[1, 2', 'foo()', '1 + 2',
];

test('INI values are typed as ast.literal_eval types them', () => {
  const script = [
    'import ast, json, sys',
    'out = []',
    'for t in json.loads(sys.stdin.read()):',
    '    try: v = ast.literal_eval(t)',
    '    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError): v = t',
    '    if isinstance(v, (tuple, set)): v = list(v)',
    '    out.append(v if not isinstance(v, complex) else t)',
    'print(json.dumps(out))',
  ].join('\n');
  const python = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(TEXTS) }).toString()) as unknown[];
  TEXTS.forEach((t, i) => {
    const expected = python[i];
    // Python's set order is its own; compare sets as sorted lists.
    const norm = (v: unknown) => (t.startsWith('{1') && Array.isArray(v) ? [...v].sort() : v);
    assert.deepEqual(norm(pythonLiteral(t)), norm(expected), `literal ${JSON.stringify(t)}`);
  });
});

test('host lines split into words as shlex.split(comments=True) does', () => {
  const lines = ['h a=1 b="two words"', "h a='x y'z # comment", 'h a=1#not-a-comment', 'h a=\\"q\\"', 'h "a=1 2"', "h a='unclosed"];
  const script = 'import json, shlex, sys\nout = []\nfor l in json.loads(sys.stdin.read()):\n    try: out.append(shlex.split(l, comments=True))\n    except ValueError as e: out.append(str(e))\nprint(json.dumps(out))';
  const python = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(lines) }).toString()) as unknown[];
  assert.deepEqual(lines.map(shellWords), python);
});
