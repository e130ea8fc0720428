import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { ops } from '../../lib/index.ts';
import { editLine } from '../../lib/ops/files/edit-line.ts';
import { editBlock } from '../../lib/ops/files/edit-block.ts';
import { mergeJson } from '../../lib/ops/files/json-merge.ts';
import { parsePathState, type PathState } from '../../lib/ops/files/path-state.ts';
import type { Op } from '../../lib/model/op.ts';
import { scratchDir } from '../helpers/run.ts';

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

test('copy decides by checksum: create, update, attributes only, ok', () => {
  const at = (path: string, state: PathState) => ({ path, state });
  const create = decide(ops.copy({ path: '/etc/x', content: 'a\n', mode: '0600' }), at('/etc/x', absent));
  assert.equal(create.kind, 'change');
  assert.match(create.kind === 'change' ? create.commands![0]!.display() : '', /^rigger_put_files \/etc\/x$/, "shown as the call (naming the file it writes), without the definition");
  assert.equal(decide(ops.copy({ path: '/etc/x', content: 'a\n' }), at('/etc/x', file('a\n'))).kind, 'ok');
  const mode = decide(ops.copy({ path: '/etc/x', content: 'a\n', mode: '0600' }), at('/etc/x', file('a\n')));
  assert.ok(mode.kind === 'change' && mode.commands!.length === 1, 'the content is right: attributes only');
  assert.equal(decide(ops.copy({ path: '/etc/x', content: 'b\n' }), at('/etc/x', file('a\n'))).kind, 'change');
  assert.equal(decide(ops.copy({ path: '/etc/x', content: 'b' }), at('/etc/x', { exists: true, type: 'directory', mode: '0755' })).kind, 'fail');
});

// The decisions' commands, run by dash and bash on real files in a scratch
// directory (with a space in its name: every path is quoted). The file
// writer itself (its counts of programs, several files in one call, owners,
// validate, backups, the sweep's age rules) is run in put-files.test.ts.
const SHELLS = ['dash', 'bash'] as const;

/** A decision's commands in order, each by `shell -c` with its stdin, stopping at the first failure. */
function runDecision(shell: (typeof SHELLS)[number], d: ReturnType<typeof decide>, stdin?: (bytes: Buffer) => Buffer) {
  assert.equal(d.kind, 'change');
  for (const c of d.kind === 'change' ? d.commands! : []) {
    const r = spawnSync(shell, ['-c', c.bytes.toString()], { input: stdin ? stdin(c.stdinBytes()) : c.stdinBytes(), encoding: 'utf8' });
    if (r.status !== 0) return r;
  }
  return { status: 0, stderr: '' };
}

/** The one command of a change. */
const onlyCommand = (d: ReturnType<typeof decide>) => (d.kind === 'change' && d.commands!.length === 1 ? d.commands![0]! : assert.fail(`one command expected: ${JSON.stringify(d)}`));

const modeOf = (p: string) => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');
const pathState = (p: string): PathState => (existsSync(p) ? file(readFileSync(p, 'utf8'), { mode: modeOf(p) }) : absent);

test('copy, run: the file is written with its mode through a rename in its own directory; no process is given the checksum; nothing else is left', () => {
  for (const shell of SHELLS) {
    const dir = path.join(scratchDir(), 'with space');
    mkdirSync(dir);
    const target = path.join(dir, 'x');
    const c = onlyCommand(decide(ops.copy({ path: target, content: 'a\n', mode: '0600' }), { path: target, state: absent }));
    const trace = path.join(scratchDir(), 'trace');
    const r = spawnSync('strace', ['-f', '-qq', '-o', trace, '-s', '200000', '-e', 'trace=execve,rename,renameat,renameat2', shell, '-c', c.bytes.toString()], { input: c.stdinBytes(), encoding: 'utf8' });
    assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
    assert.equal(readFileSync(target, 'utf8'), 'a\n');
    assert.equal(modeOf(target), '0600');
    assert.deepEqual(readdirSync(dir), ['x'], `${shell}: only the target in its directory`);
    const calls = readFileSync(trace, 'utf8');
    // The content arrived under another name beside the target and was renamed onto it: a reader sees the old file or the new one.
    const renames = [...calls.matchAll(/rename(?:at2?)?\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"/g)].map((m) => [m[1]!, m[2]!] as const);
    assert.ok(renames.some(([from, to]) => to === target && from !== target && from.startsWith(`${dir}/`)), `${shell}: renamed onto the target from beside it: ${JSON.stringify(renames)}`);
    // The checksum rides on stdin: it would show in `ps` on the host.
    const sha = createHash('sha256').update('a\n').digest('hex');
    const execs = calls.split('\n').filter((l) => l.includes('execve('));
    assert.ok(execs.length > 1, 'programs were traced');
    assert.deepEqual(execs.filter((l) => l.includes(sha)), [], `${shell}: a command line held the checksum`);

    // The right content with another mode: only the mode changes, and then nothing is left to do.
    const chmodOnly = runDecision(shell, decide(ops.copy({ path: target, content: 'a\n', mode: '0640' }), { path: target, state: pathState(target) }));
    assert.equal(chmodOnly.status, 0, chmodOnly.stderr);
    assert.equal(modeOf(target), '0640');
    assert.equal(readFileSync(target, 'utf8'), 'a\n');
    assert.equal(decide(ops.copy({ path: target, content: 'a\n', mode: '0640' }), { path: target, state: pathState(target) }).kind, 'ok');
  }
});

test('copy, run: content that does not match its checksum, even when the error cannot be reported, leaves the old file and nothing else', async () => {
  for (const shell of SHELLS) {
    const dir = path.join(scratchDir(), 'with space');
    mkdirSync(dir);
    const target = path.join(dir, 'x');
    writeFileSync(target, 'old\n');
    const update = decide(ops.copy({ path: target, content: 'new\n' }), { path: target, state: pathState(target) });
    // One byte of the content changed on the way: the same length, another checksum.
    const flip = (b: Buffer) => Buffer.concat([b.subarray(0, -2), Buffer.from('X\n')]);
    const r = runDecision(shell, update, flip);
    assert.notEqual(r.status, 0, `${shell}: a mismatched content was written`);
    assert.match(r.stderr, /checksum/);
    assert.equal(readFileSync(target, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir), ['x'], `${shell}: a temp file was left`);

    // Again with stderr a pipe nobody reads any more (a channel gone): the error's write raises SIGPIPE, and the cleanup still runs.
    const c = onlyCommand(update);
    const child = spawn(shell, ['-c', c.bytes.toString()], { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stderr!.destroy();
    child.stdin!.end(flip(c.stdinBytes()));
    const [code, signal] = await new Promise<[number | null, string | null]>((res) => child.on('close', (co, si) => res([co, si])));
    assert.ok(code !== 0 || signal !== null, `${shell}: ended ${code} ${signal}`);
    assert.equal(readFileSync(target, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir), ['x'], `${shell}: a temp file was left after SIGPIPE`);
  }
});

test('copy, run: what a killed write left beside its target (SIGKILL escapes every trap) is removed by the next write; other files stay', async () => {
  for (const shell of SHELLS) {
    const dir = path.join(scratchDir(), 'with space');
    mkdirSync(dir);
    const target = path.join(dir, 'x');
    writeFileSync(path.join(dir, 'notes'), "not rigger's");
    writeFileSync(path.join(dir, '.rigger.keep'), 'not a temp name');
    const c = onlyCommand(decide(ops.copy({ path: target, content: 'k'.repeat(1 << 16) }), { path: target, state: absent }));
    // Killed with its process group while the content is still arriving.
    const before = new Set(readdirSync(dir));
    const child = spawn(shell, ['-c', c.bytes.toString()], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.stdin!.write(c.stdinBytes().subarray(0, c.stdinBytes().length - 100));
    let left: string[] = [];
    while ((left = readdirSync(dir).filter((f) => !before.has(f))).length === 0) {
      assert.equal(child.exitCode, null, `${shell}: the write ended before it made anything`);
      await sleep(5);
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((res) => child.on('close', res));
    assert.ok(!existsSync(target), `${shell}: the killed write made the target`);
    // Left by a run an hour ago: the next write, a later run, removes it.
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const f of readdirSync(dir)) utimesSync(path.join(dir, f), hourAgo, hourAgo);
    const r = runDecision(shell, decide(ops.copy({ path: target, content: 'new\n' }), { path: target, state: absent }));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['.rigger.keep', 'notes', 'x'], `${shell}: left after the next write (the killed one left ${left.join(', ')})`);
  }
});

test('file, run: a directory made with its parents and its mode; removed with its contents', () => {
  for (const shell of SHELLS) {
    const base = path.join(scratchDir(), 'with space');
    const d = path.join(base, 'a', 'b');
    const mk = runDecision(shell, decide(ops.file({ path: d, state: 'directory', mode: '0700' }), absent));
    assert.equal(mk.status, 0, mk.stderr);
    assert.ok(statSync(d).isDirectory());
    assert.equal(modeOf(d), '0700');
    writeFileSync(path.join(d, 'inside'), 'x');
    const dirState: PathState = { exists: true, type: 'directory', mode: '0755', owner: 'root', group: 'root' };
    const rm = runDecision(shell, decide(ops.file({ path: path.join(base, 'a'), state: 'absent' }), dirState));
    assert.equal(rm.status, 0, rm.stderr);
    assert.deepEqual(readdirSync(base), []);
  }
});

test('file decides each state', () => {
  const dir: PathState = { exists: true, type: 'directory', mode: '0755', owner: 'root', group: 'root' };
  assert.equal(decide(ops.file({ path: '/d', state: 'directory' }), dir).kind, 'ok');
  assert.equal(decide(ops.file({ path: '/d', state: 'absent' }), absent).kind, 'ok');
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
  // Each argument reaches the program as one word, whatever it holds: run by dash and bash.
  for (const shell of SHELLS) {
    const dir = scratchDir();
    const names = ['a b', "it's $HOME;x", 'tab\there', 'new\nline', '*'];
    const r = runDecision(shell, decide(ops.command({ argv: ['touch', '--', ...names.map((n) => path.join(dir, n))] }), undefined));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), [...names].sort(), shell);
  }
  assert.equal(decide(ops.command({ argv: ['x'], creates: '/done' }), { createsExists: true, removesExists: false }).kind, 'ok');
  const guarded = decide(ops.command({ argv: ['x'], creates: '/done' }), { createsExists: false, removesExists: false });
  assert.ok(guarded.kind === 'change' && !guarded.unpredictable, 'with creates, check mode can say it would run');
  assert.equal(decide(ops.shell({ script: 'x', removes: '/todo' }), { createsExists: false, removesExists: false }).kind, 'ok');
  assert.equal(ops.command({ argv: ['a'] }).probe, undefined, 'no guard, no probe');
  assert.match(ops.command({ argv: [] }).problems[0]!.message, /at least the program/);
});

test('template, line and block decisions write the edited text: run by dash and bash', () => {
  for (const shell of SHELLS) {
    const dir = scratchDir();
    const at = (name: string, content?: string) => {
      const p = path.join(dir, name);
      if (content !== undefined) writeFileSync(p, content);
      return p;
    };
    const written = (p: string, d: ReturnType<typeof decide>) => {
      const r = runDecision(shell, d);
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(p, 'utf8');
    };
    const tpl = ops.defineTemplate<{ n: number }>('t', (v) => `n=${v.n}\n`);
    const t = at('t', 'n=1\n');
    assert.equal(written(t, decide(ops.template({ path: t, template: tpl, vars: { n: 2 } }), pathState(t))), 'n=2\n');
    const c = at('c', 'a=1\nb=1\n');
    assert.equal(written(c, decide(ops.line({ path: c, regexp: '^a=', line: 'a=2' }), pathState(c))), 'a=2\nb=1\n');
    assert.equal(decide(ops.line({ path: at('missing'), line: 'x' }), absent).kind, 'fail', 'a missing file is an error unless create');
    const b = at('b');
    assert.equal(written(b, decide(ops.block({ path: b, block: 'x\n', create: true }), absent)), '# BEGIN RIGGER MANAGED BLOCK\nx\n# END RIGGER MANAGED BLOCK\n');
  }
  const broken = ops.defineTemplate<{ n: number }>('broken', () => {
    throw new Error('no value');
  });
  const f = decide(ops.template({ path: '/t', template: broken, vars: { n: 1 } }), absent);
  assert.ok(f.kind === 'fail' && /template broken: no value/.test(f.reason));
});
