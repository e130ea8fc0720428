import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { ops } from '../../lib/index.ts';
import { editLine } from '../../lib/ops/files/edit-line.ts';
import { editBlock } from '../../lib/ops/files/edit-block.ts';
import { mergeJson } from '../../lib/ops/files/json-merge.ts';
import { parsePathState, type PathState } from '../../lib/ops/files/path-state.ts';
import type { Op } from '../../lib/core/op.ts';
import type { Command } from '../../lib/core/command.ts';

const file = (content: string, extra: Partial<PathState> = {}): PathState => ({
  exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', size: content.length,
  sha256: createHash('sha256').update(content).digest('hex'), content: Buffer.from(content), ...extra,
});
const absent: PathState = { exists: false };
const decide = (op: Op<unknown, any>, state: unknown) => {
  assert.deepEqual(op.problems, []);
  return op.decide(state);
};

test('editLine follows lineinfile', () => {
  const cases: [string, Parameters<typeof editLine>[1], string][] = [
    ['a\nb\n', { line: 'c', state: 'present' }, 'a\nb\nc\n'],
    ['a\nb', { line: 'c', state: 'present' }, 'a\nb\nc\n'],
    ['a\nc\n', { line: 'c', state: 'present' }, 'a\nc\n'],
    ['x=1\ny=2\nx=3\n', { regexp: '^x=', line: 'x=9', state: 'present' }, 'x=1\ny=2\nx=9\n'],
    ['x=1\ny=2\nx=3\n', { regexp: '^x=', line: 'x=9', state: 'present', firstMatch: true }, 'x=9\ny=2\nx=3\n'],
    ['a\nb\nc\n', { line: 'new', state: 'present', insertAfter: '^a' }, 'a\nnew\nb\nc\n'],
    ['a\nb\nc\n', { line: 'new', state: 'present', insertBefore: '^c' }, 'a\nb\nnew\nc\n'],
    ['a\nb\n', { line: 'new', state: 'present', insertBefore: 'BOF' }, 'new\na\nb\n'],
    ['a\nb\n', { line: 'new', state: 'present', insertAfter: '^nomatch' }, 'a\nb\nnew\n'],
    ['a\nb\na\n', { line: 'a', state: 'absent' }, 'b\n'],
    ['x=1\ny=2\n', { regexp: '^x', state: 'absent' }, 'y=2\n'],
    ['', { line: 'only', state: 'present' }, 'only\n'],
  ];
  for (const [text, spec, want] of cases) assert.equal(editLine(text, spec), want, JSON.stringify({ text, spec }));
});

test('editBlock inserts, replaces in place and removes with markers', () => {
  const m = '# {mark} X';
  assert.equal(editBlock('a\n', { block: 'l1\n', marker: m, state: 'present' }), 'a\n# BEGIN X\nl1\n# END X\n');
  assert.equal(editBlock('a\n# BEGIN X\nold\n# END X\nz\n', { block: 'new\n', marker: m, state: 'present' }), 'a\n# BEGIN X\nnew\n# END X\nz\n');
  assert.equal(editBlock('a\n# BEGIN X\nold\n# END X\nz\n', { block: '', marker: m, state: 'absent' }), 'a\nz\n');
  assert.equal(editBlock('a\nb\n', { block: 'l\n', marker: m, state: 'present', insertBefore: '^b' }), 'a\n# BEGIN X\nl\n# END X\nb\n');
  assert.equal(editBlock('a\n', { block: 'l', marker: m, state: 'absent' }), 'a\n');
});

test('mergeJson: desired keys win, objects merge, arrays replace', () => {
  assert.deepEqual(mergeJson({ a: 1, o: { x: 1, y: [1] } }, { o: { y: [2], z: true } }), { a: 1, o: { x: 1, y: [2], z: true } });
  assert.deepEqual(mergeJson([1], { a: 1 }), { a: 1 });
});

test('path state parsing from the probe output', () => {
  const ok = (s: string) => ({ stdout: Buffer.from(s), stderr: Buffer.alloc(0), code: 0, durationMs: 0 });
  assert.deepEqual(parsePathState(ok('absent\n')), { exists: false });
  const f = parsePathState(ok(`regular file|644|root|adm|3\n\n${'a'.repeat(64)}\n${Buffer.from('hi\n').toString('base64')}\n`));
  assert.equal(f.type, 'file');
  assert.equal(f.mode, '0644');
  assert.equal(f.group, 'adm');
  assert.equal(f.content?.toString(), 'hi\n');
  const l = parsePathState(ok('symbolic link|777|root|root|11\n/etc/hostname\n'));
  assert.equal(l.linkTarget, '/etc/hostname');
});

test('copy decides by checksum: create, update, attributes only, ok; the write is atomic', () => {
  const at = (path: string, state: PathState) => ({ path, state });
  const create = decide(ops.copy({ path: '/etc/x', content: 'a\n', mode: '0600' }), at('/etc/x', absent));
  assert.equal(create.kind, 'change');
  // The write is a call of the file writer (put-files.ts, tested on its own in put-files.test.ts): the script is its definition and the call.
  const cmd = create.kind === 'change' ? create.commands![0]!.bytes.toString() : '';
  assert.match(cmd, /t=\$\{d%\/\}\/\.rigger\./, 'the temp file is made beside the target, so mv is a rename');
  assert.match(cmd, /sha256sum -c --status/);
  assert.match(cmd, /chmod \\"\\\$rigger_k\\" -- \$rigger_g/, 'one chmod per distinct mode');
  assert.match(cmd, /mv -f -- \\"\\\$t_\$i\\" \\"\\\$p_\$i\\"/);
  assert.match(create.kind === 'change' ? create.commands![0]!.display() : '', /^rigger_put_files \/etc\/x$/, "shown as the call (naming the file it writes), without the definition");
  const sha = createHash('sha256').update('a\n').digest('hex');
  // The checksum, path and mode ride on stdin ahead of the content: argv shows in `ps` on the host.
  // The temp file's name too (eight letters and digits another user cannot guess: issue 27 item 6).
  assert.match(create.kind === 'change' ? create.commands![0]!.stdinBytes().toString() : '', new RegExp(`^1\n${sha} 2 0600 - - - [A-Za-z0-9]{8} /etc/x\na\n$`));
  assert.ok(!cmd.includes(sha), 'no checksum in the command line');
  assert.match(cmd, /trap 'exit 141' PIPE/, 'a write to a closed channel still runs the EXIT trap');
  assert.match(cmd, /-name '\.rigger\.\?{8}' -mmin \+10 -delete/, 'stale temp files of an earlier run are removed, own pattern only, by the host\'s clock (issue 27 item 15)');
  assert.equal(decide(ops.copy({ path: '/etc/x', content: 'a\n' }), at('/etc/x', file('a\n'))).kind, 'ok');
  const mode = decide(ops.copy({ path: '/etc/x', content: 'a\n', mode: '0600' }), at('/etc/x', file('a\n')));
  assert.ok(mode.kind === 'change' && mode.commands!.length === 1 && /^chmod 0600 -- \/etc\/x$/.test(mode.commands![0]!.display()));
  assert.equal(decide(ops.copy({ path: '/etc/x', content: 'b\n' }), at('/etc/x', file('a\n'))).kind, 'change');
  assert.equal(decide(ops.copy({ path: '/etc/x', content: 'b' }), at('/etc/x', { exists: true, type: 'directory', mode: '0755' })).kind, 'fail');
});

test('file decides each state', () => {
  const dir: PathState = { exists: true, type: 'directory', mode: '0755', owner: 'root', group: 'root' };
  assert.equal(decide(ops.file({ path: '/d', state: 'directory' }), dir).kind, 'ok');
  const mk = decide(ops.file({ path: '/d', state: 'directory', mode: '0700' }), absent);
  assert.ok(mk.kind === 'change' && mk.commands!.map((c) => c.display()).join(';') === 'mkdir -p -- /d;chmod 0700 -- /d');
  assert.equal(decide(ops.file({ path: '/d', state: 'absent' }), absent).kind, 'ok');
  const rm = decide(ops.file({ path: '/d', state: 'absent' }), dir);
  assert.ok(rm.kind === 'change' && rm.commands![0]!.display() === 'rm -rf -- /d');
  assert.equal(decide(ops.file({ path: '/l', state: 'link', src: '/t' }), { exists: true, type: 'link', linkTarget: '/t', mode: '0777' }).kind, 'ok');
  assert.equal(decide(ops.file({ path: '/l', state: 'link', src: '/t' }), dir).kind, 'fail');
  assert.equal(decide(ops.file({ path: '/f', state: 'file' }), absent).kind, 'fail');
});

test('JSON merge leaves a file with equal values untouched and refuses invalid JSON', () => {
  const same = decide(ops.jsonFile({ path: '/j', merge: { a: 1 } }), file('{ "a" : 1, "b": 2 }'));
  assert.equal(same.kind, 'ok');
  const change = decide(ops.jsonFile({ path: '/j', merge: { a: 2 } }), file('{"a": 1, "b": 2}'));
  assert.ok(change.kind === 'change' && change.diff?.kind === 'json');
  assert.equal(decide(ops.jsonFile({ path: '/j', merge: { a: 2 } }), file('{not json')).kind, 'fail');
});

test('bad op input names the parameter, before any host is touched', () => {
  const problems = (op: Op<unknown, any>) => op.problems.map((p) => `${p.param}: ${p.message}`);
  assert.match(problems(ops.file({ path: '/x', state: 'directory', mode: '0999' })).join(), /^mode: a mode is 3 or 4 octal digits/);
  assert.match(problems(ops.copy({ path: 'relative/x', content: '' })).join(), /^path: must be an absolute path/);
  assert.match(problems(ops.line({ path: '/x' } as never)).join(), /^line: state present needs line/);
  assert.match(problems(ops.file({ path: '/x', state: 'link' })).join(), /^src: state link needs src/);
  assert.match(problems(ops.line({ path: '/x', line: 'a', regexp: '(' })).join(), /^regexp: not a usable regular expression/);
  assert.match(problems(ops.copy({ path: '/x', content: 'a', validate: 'sshd -t' })).join(), /^validate: must contain %s/);
  assert.match(problems(ops.file({ path: '/', state: 'absent' })).join(), /^path: must not be \//);
});

test('command and shell: creates/removes decide, argv is quoted, plain commands are unpredictable in check mode', () => {
  const run = decide(ops.command({ argv: ['touch', '/tmp/a b'] }), undefined);
  assert.ok(run.kind === 'change' && run.unpredictable === true);
  assert.equal(decide(ops.command({ argv: ['x'], creates: '/done' }), { createsExists: true, removesExists: false }).kind, 'ok');
  const guarded = decide(ops.command({ argv: ['x'], creates: '/done' }), { createsExists: false, removesExists: false });
  assert.ok(guarded.kind === 'change' && !guarded.unpredictable, 'with creates, check mode can say it would run');
  assert.equal(decide(ops.shell({ script: 'x', removes: '/todo' }), { createsExists: false, removesExists: false }).kind, 'ok');
  assert.equal(ops.command({ argv: ['a'] }).probe, undefined, 'no guard, no probe');
  assert.match(ops.command({ argv: [] }).problems[0]!.message, /at least the program/);
});

/** A one-file write's content: its stdin after the count and the header line. */
function payloadOf(c: Command): string {
  return c.stdinBytes().toString().replace(/^1\n[0-9a-f]{64} [^\n]*\n/, '');
}

test('template, line and block decisions produce the edited text as the write payload', () => {
  const tpl = ops.defineTemplate<{ n: number }>('t', (v) => `n=${v.n}\n`);
  const w = decide(ops.template({ path: '/t', template: tpl, vars: { n: 2 } }), file('n=1\n'));
  assert.ok(w.kind === 'change' && payloadOf(w.commands![0]!) === 'n=2\n');
  const l = decide(ops.line({ path: '/c', regexp: '^a=', line: 'a=2' }), file('a=1\nb=1\n'));
  assert.ok(l.kind === 'change' && payloadOf(l.commands![0]!) === 'a=2\nb=1\n');
  assert.equal(decide(ops.line({ path: '/c', line: 'x' }), absent).kind, 'fail', 'a missing file is an error unless create');
  const b = decide(ops.block({ path: '/c', block: 'x\n', create: true }), absent);
  assert.ok(b.kind === 'change' && payloadOf(b.commands![0]!) === '# BEGIN RIGGER MANAGED BLOCK\nx\n# END RIGGER MANAGED BLOCK\n');
  const broken = ops.defineTemplate<{ n: number }>('broken', () => {
    throw new Error('no value');
  });
  const f = decide(ops.template({ path: '/t', template: broken, vars: { n: 1 } }), absent);
  assert.ok(f.kind === 'fail' && /template broken: no value/.test(f.reason));
});
