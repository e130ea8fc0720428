// The file writer (lib/ops/files/put-files.ts) run by dash on this machine:
// many files in one call, all or none of them before the renames, and each
// step once per call rather than once per file (counted with strace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, groupForExec, sh } from '../../lib/shell/command.ts';
import { headWithLinks } from '../../lib/runner/run-ahead.ts';
import { FILES_PER_CALL, putFiles, type PutFile } from '../../lib/ops/files/put-files.ts';
import { definePlay, ops } from '../../lib/index.ts';
import { localInventory, runPlays, scratchDir } from '../helpers/run.ts';
import { EXECVE_TRACE, programsStarted } from '../helpers/strace.ts';

const NOBODY = 65534;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const file = (p: string, content: string, more: Partial<PutFile> = {}): PutFile => ({ path: p, data: Buffer.from(content), sha256: sha(content), mode: '0644', ...more });

function run(c: Command, shell = 'dash') {
  const r = spawnSync(shell, ['-c', c.bytes.toString('latin1')], { input: c.stdinBytes() });
  return { code: r.status, stderr: r.stderr.toString() };
}

/** Every file under dir (relative), with its content; the writer's temp files would show here. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p, 'latin1');
    }
  };
  walk(dir);
  return out;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const modeOf = (p: string) => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

test('one call writes five files: contents, modes, owners given or kept, parents with their mode, odd names, validate (on the odd name too) and backup', () => {
  for (const shell of ['dash', 'bash']) {
    const dir = scratchDir();
    writeFileSync(`${dir}/theirs`, 'old\n');
    spawnSync('chown', [`${NOBODY}:${NOBODY}`, `${dir}/theirs`]);
    writeFileSync(`${dir}/backed`, 'before\n');
    const odd = `${dir}/sub dir/a\\b\nc `;
    const r = run(
      putFiles([
        file(`${dir}/plain`, 'plain\n'),
        file(`${dir}/theirs`, 'kept owner\n', { mode: '0640' }),
        file(odd, 'odd\x00bytes', { mode: '0600', owner: `${NOBODY}:${NOBODY}`, makeParents: '0700', validate: 'grep -q odd %s' }),
        file(`${dir}/checked`, 'wanted\n', { mode: '0755', owner: ':nogroup', validate: 'grep -q wanted %s' }),
        file(`${dir}/backed`, 'after\n', { mode: '0600', backup: true }),
      ]),
      shell,
    );
    assert.equal(r.code, 0, r.stderr);
    const t = tree(dir);
    const backup = Object.keys(t).find((k) => /^backed\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/.test(k));
    assert.ok(backup, `a backup copy of the replaced file (${shell})`);
    assert.deepEqual(t, { plain: 'plain\n', theirs: 'kept owner\n', [path.relative(dir, odd)]: 'odd\x00bytes', checked: 'wanted\n', backed: 'after\n', [backup!]: 'before\n' }, `every file, no temp file (${shell})`);
    assert.deepEqual([modeOf(`${dir}/plain`), modeOf(`${dir}/theirs`), modeOf(odd), modeOf(`${dir}/checked`), modeOf(`${dir}/backed`)], ['0644', '0640', '0600', '0755', '0600']);
    assert.equal(modeOf(`${dir}/sub dir`), '0700', 'the parent made with its mode');
    assert.deepEqual([statSync(`${dir}/theirs`).uid, statSync(`${dir}/theirs`).gid], [NOBODY, NOBODY], 'an owner not given is the old file\'s');
    assert.deepEqual([statSync(odd).uid, statSync(odd).gid], [NOBODY, NOBODY]);
    assert.deepEqual([statSync(`${dir}/checked`).uid, statSync(`${dir}/checked`).gid], [process.getuid!(), NOBODY]);
    assert.equal(statSync(`${dir}/plain`).uid, process.getuid!());
  }
});

/** Five files, two of them already there; `third` changes the third one. */
function fiveWithThird(dir: string, third: Partial<PutFile>) {
  writeFileSync(`${dir}/f1`, 'old 1\n');
  writeFileSync(`${dir}/f4`, 'old 4\n');
  const before = tree(dir);
  const files = [1, 2, 3, 4, 5].map((n) => file(`${dir}/f${n}`, `new ${n}\n`, n === 3 ? third : {}));
  return { before, r: run(putFiles(files)) };
}

test('a failing validate on the third of five files leaves all five targets as they were and no temp file', () => {
  const dir = scratchDir();
  const { before, r } = fiveWithThird(dir, { validate: 'grep -q absent %s' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /validation failed: 'grep -q absent %s'/);
  assert.deepEqual(tree(dir), before);
});

test('a checksum mismatch on the third of five files leaves all five targets as they were and no temp file', () => {
  const dir = scratchDir();
  const { before, r } = fiveWithThird(dir, { sha256: sha('something else') });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /content checksum mismatch after transfer/);
  assert.deepEqual(tree(dir), before);
});

test('a stream cut short (fewer bytes than the headers say) writes nothing', () => {
  const dir = scratchDir();
  const c = putFiles([file(`${dir}/a`, 'aaaa\n'), file(`${dir}/b`, 'bbbb\n')]);
  const stdin = c.stdinBytes();
  const r = spawnSync('dash', ['-c', c.bytes.toString('latin1')], { input: stdin.subarray(0, stdin.length - 3) });
  assert.notEqual(r.status, 0);
  assert.deepEqual(tree(dir), {});
});

test('TERM while the third file is validated: every target as it was, no temp file', async () => {
  const dir = scratchDir();
  const work = scratchDir();
  writeFileSync(`${dir}/f1`, 'old 1\n');
  const before = tree(dir);
  const started = `${work}/validating`;
  const c = putFiles([1, 2, 3, 4, 5].map((n) => file(`${dir}/f${n}`, `new ${n}\n`, n === 3 ? { validate: `sh -c 'touch "$1"; exec sleep 600' validate ${started} %s` } : {})));
  const child = spawn('dash', ['-c', c.bytes.toString('latin1')], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin.end(c.stdinBytes());
  while (!existsSync(started)) await sleep(10);
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('.rigger.')).length, 5, 'the five temp files exist while the third is checked');
  // As the wrapper's watchdog does: TERM to the whole process group.
  process.kill(-child.pid!, 'SIGTERM');
  const code = await new Promise((r) => child.on('close', (c, signal) => r(c ?? signal)));
  // The calling shell exits on TERM (143), but only after the writer's subshell has cleaned up.
  assert.equal(code, 143);
  assert.deepEqual(tree(dir), before);
  for (let i = 0; i < 500 && groupAlive(child.pid!); i++) await sleep(10);
  assert.equal(groupAlive(child.pid!), false, 'every process of the call ended');
});

test('a leftover temp file older than the run is swept in every directory written; newer ones and other names are left', () => {
  const dir = scratchDir();
  mkdirSync(`${dir}/d`);
  const old = new Date(Date.now() - 3600_000);
  for (const f of [`${dir}/.rigger.Ab3dEf9h`, `${dir}/d/.rigger.Zz9yX8w7`, `${dir}/.rigger.keep`]) {
    writeFileSync(f, 'left by a killed run');
    spawnSync('touch', ['-d', old.toISOString(), f]);
  }
  writeFileSync(`${dir}/.rigger.N3w3rF1l`, 'another run, still going');
  // The first file's parents are made with a mode (that code reuses the positional parameters).
  assert.equal(run(putFiles([file(`${dir}/new/x`, 'x', { makeParents: '0750' }), file(`${dir}/a`, 'a'), file(`${dir}/d/b`, 'b'), file(`${dir}/c`, 'c')])).code, 0);
  assert.deepEqual(Object.keys(tree(dir)).sort(), ['.rigger.N3w3rF1l', '.rigger.keep', 'a', 'c', 'd/b', 'new/x']);
});

/** Programs the call starts (execve), counted by strace; dash (the call's own shell) not counted. */
function programs(files: PutFile[]): Record<string, number> {
  const work = scratchDir();
  const c = putFiles(files);
  const r = spawnSync('strace', [...EXECVE_TRACE, '-o', `${work}/trace`, 'dash', '-c', c.bytes.toString('latin1')], { input: c.stdinBytes() });
  assert.equal(r.status, 0, r.stderr.toString());
  const counts: Record<string, number> = {};
  for (const started of programsStarted(readFileSync(`${work}/trace`, 'utf8'))) {
    if (started && started !== 'dash') counts[started] = (counts[started] ?? 0) + 1;
  }
  return counts;
}

test('steps are shared: one sha256sum and one chmod per mode for up to seven files, one sync for any number; head and mv per file; find only where a leftover is; a validate starts its own program only', () => {
  const dir = scratchDir();
  for (let n = 1; n <= 6; n++) writeFileSync(`${dir}/f${n}`, 'old\n');
  const six = programs([1, 2, 3, 4, 5, 6].map((n) => file(`${dir}/f${n}`, `new ${n}\n`, { mode: n % 2 ? '0644' : '0600' })));
  assert.deepEqual(six, { head: 6, sha256sum: 1, chmod: 2, sync: 1, mv: 6 });
  const one = programs([file(`${dir}/f1`, 'newer\n')]);
  assert.deepEqual(one, { head: 1, sha256sum: 1, chmod: 1, sync: 1, mv: 1 });
  // A temp file a killed run left (the shell's glob sees it, no program): one find for the call.
  mkdirSync(`${dir}/other`);
  writeFileSync(`${dir}/other/.rigger.Ab3dEf9h`, 'left');
  const swept = programs([file(`${dir}/f1`, 'a\n'), file(`${dir}/other/g`, 'b\n'), file(`${dir}/f2`, 'c\n')]);
  assert.deepEqual(swept, { find: 1, head: 3, sha256sum: 1, chmod: 1, sync: 1, mv: 3 });
  // Issue 27 item 6: the checksum, chown and chmod reach each temp file through its open descriptor, and
  // dash has seven (3-9): nine files of one mode take two groups, so two sha256sum and two chmod.
  for (let n = 7; n <= 9; n++) writeFileSync(`${dir}/f${n}`, 'old\n');
  const nine = programs([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => file(`${dir}/f${n}`, `nine ${n}\n`)));
  assert.deepEqual(nine, { head: 9, sha256sum: 2, chmod: 2, sync: 1, mv: 9 });
  // Issue 27 item 11: a validate command is exec'd with no shell: its own program only.
  const validated = programs([file(`${dir}/f1`, 'wanted\n', { validate: 'grep -q wanted %s' })]);
  assert.deepEqual(validated, { head: 1, sha256sum: 1, chmod: 1, grep: 1, sync: 1, mv: 1 });
});

test('the writer is defined once per script, however many joined, grouped or run-ahead commands call it', () => {
  const dir = scratchDir();
  const definitions = (b: Buffer) => b.toString('latin1').split('rigger_put_files_() (').length - 1;
  // The third's validate reads its stdin: it must not eat the next writes' bytes from the shared stream.
  const w = (n: number) => putFiles([file(`${dir}/f${n}`, `${n}\n`, n === 3 ? { validate: `sh -c 'cat >/dev/null; test -s "$1"' validate %s` } : {})]);
  assert.equal(definitions(w(1).bytes), 1);
  assert.equal(definitions(Command.join([sh`true`, sh`${sh`mkdir -p ${dir}`}`]).bytes), 0, 'no definition where nothing writes');
  const grouped = groupForExec([sh`mkdir -p ${dir}`, w(1), w(2)]);
  assert.deepEqual(grouped.map((c) => definitions(c.bytes)), [0, 1, 1]);
  const probe = sh`true`;
  const decidedFrom = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), code: 0, durationMs: 0 };
  const layout = headWithLinks(w(1), [2, 3, 4].map((n) => ({ taskId: `t${n}`, probe, decidedFrom, commands: [w(n)] })));
  assert.equal(definitions(layout.bytes), 1);
  assert.doesNotMatch(layout.bytes.toString('latin1'), /head -c \d+ \| \(/, 'each write reads its own part of the shared stdin, with no head -c to cut it out');
  const stdin = Buffer.concat(layout.stdin.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p as string))));
  const r = spawnSync('dash', ['-c', Buffer.concat([layout.bytes, Buffer.from('exit "$rigger_rc"\n')]).toString('latin1')], { input: stdin });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(tree(dir), { f1: '1\n', f2: '2\n', f3: '3\n', f4: '4\n' }, 'the head and every link wrote, through the one definition');
});

test('ops.each of copies and a copyTree each write their files in one round trip; a failing validate among joined copies writes none of them', async () => {
  const inv = localInventory(['a']);
  const dir = scratchDir();
  const src = scratchDir();
  for (const n of [1, 2, 3]) writeFileSync(`${src}/s${n}`, `tree ${n}\n`);
  const play = (validate: string) =>
    definePlay({
      name: 'writes',
      hosts: 'all',
      tasks: ({ task }) => [
        task({ name: 'three copies', op: ops.each('copies', [1, 2, 3].map((n) => ops.copy({ path: `${dir}/c${n}`, content: `copy ${n}\n`, mode: '0600', ...(n === 2 ? { validate } : {}) }))) }),
        task({ name: 'tree', op: ops.copyTree({ path: `${dir}/tree`, src: `${src}/` }) }),
      ],
    });
  const failed = await runPlays(inv, [play('grep -q absent %s')]);
  assert.equal(failed.statuses.get('three copies')!.get('a'), 'failed');
  assert.deepEqual(tree(dir), {}, 'the joined copies are all or none: the second one\'s validate failed, so none was written');
  const o = await runPlays(inv, [play('grep -q copy %s')]);
  assert.equal(o.summary.counts.get('a')!.changed, 2);
  assert.deepEqual(tree(dir), { c1: 'copy 1\n', c2: 'copy 2\n', c3: 'copy 3\n', 'tree/s1': 'tree 1\n', 'tree/s2': 'tree 2\n', 'tree/s3': 'tree 3\n' });
  assert.equal(modeOf(`${dir}/c3`), '0600');
  // The read; the three copies (one call); the tree's probe again (the copies changed the host); its
  // directory; its three files (one call). A call per file would make it 9.
  assert.equal(o.runner.sessions.get('a')!.roundTrips, 5);
});

test('a setuid or setgid mode with an owner holds from the first run (chown before chmod, as Ansible), and a second run changes nothing', async () => {
  const dir = scratchDir();
  const r = run(putFiles([file(`${dir}/suid`, 'x\n', { mode: '4755', owner: `${NOBODY}:${NOBODY}` }), file(`${dir}/sgid`, 'y\n', { mode: '2750', owner: `:${NOBODY}` })]));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([modeOf(`${dir}/suid`), modeOf(`${dir}/sgid`)], ['4755', '2750'], 'chown would clear the bits a chmod before it had set');

  // The attribute-only path: a file with the right content whose owner and mode both change.
  writeFileSync(`${dir}/attrs`, 'same\n');
  const inv = localInventory(['a']);
  const play = definePlay({ name: 'attrs', hosts: 'all', tasks: ({ task }) => [task({ name: 'suid', op: ops.copy({ path: `${dir}/attrs`, content: 'same\n', mode: '4755', owner: 'nobody' }) })] });
  assert.equal((await runPlays(inv, [play])).summary.counts.get('a')!.changed, 1);
  assert.equal(modeOf(`${dir}/attrs`), '4755');
  assert.equal((await runPlays(inv, [play])).summary.counts.get('a')!.changed, 0, 'the second run finds the mode it set');
});

test('more files than one call takes go in calls of FILES_PER_CALL: long paths never make an argument list too long', () => {
  const dir = scratchDir();
  // A directory path of about 520 bytes: 600 temp paths in one chmod would be over 300 KB, 4,500 over Linux's 2 MiB.
  const deep = path.join(dir, ...Array.from({ length: 8 }, (_, i) => `${'d'.repeat(60)}${i}`));
  mkdirSync(deep, { recursive: true });
  const files = Array.from({ length: FILES_PER_CALL * 2 + 10 }, (_, i) => file(path.join(deep, `f${i}`), `file ${i}\n`, { mode: i % 2 ? '0600' : '0640' }));
  const c = putFiles(files);
  assert.equal(c.bytes.toString().match(/rigger_put_files /g)?.length, 3, 'three calls');
  const r = run(c);
  assert.equal(r.code, 0, r.stderr);
  const names = readdirSync(deep);
  assert.equal(names.length, files.length, 'every file, no temp file');
  assert.equal(readFileSync(path.join(deep, 'f517'), 'utf8'), 'file 517\n');
  assert.deepEqual([modeOf(path.join(deep, 'f516')), modeOf(path.join(deep, 'f517'))], ['0640', '0600']);
});

// ---- Issue 27: items 6, 11 and 15 (each test names its item) ----

const SHELLS = ['dash', 'bash'] as const;

/** Temp paths the writer printed: a `validate: 'echo %s'` prints each one on stdout. */
const printedTemps = (stdout: string) => stdout.split('\n').filter((l) => l.includes('/.rigger.'));

/**
 * Runs the writer from a shell that first plants, as another local user
 * would, a symlink at each temp name the writer could pick: the names of its
 * pid (`exec` keeps the pid, so they are the names it will compute) and
 * `known`, the names an earlier identical write used.
 */
function runWithPlantedLinks(c: Command, shell: string, dir: string, link: string, known: string[]) {
  const plant = [
    'i=0',
    'while [ "$i" -lt 8 ]; do n=$(( (i * 4194304 + $$) % 100000000 )); n=0000000$n; ln -s "$1" "$2/.rigger.${n#"${n%????????}"}"; i=$((i + 1)); done',
    'shift 2; for k in "$@"; do ln -s "$LINK" "$k" 2>/dev/null || true; done',
    'exec "$SHELL_UNDER_TEST" -c "$SCRIPT"',
  ].join('\n');
  return spawn('sh', ['-c', plant, 'plant', link, dir, ...known], {
    env: { ...process.env, LINK: link, SCRIPT: c.bytes.toString('latin1'), SHELL_UNDER_TEST: shell },
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Another user's FIFO and its reader: whatever is written into the FIFO lands in `captured`. Kill `-reader.pid` when done. */
function plantedFifo() {
  const work = scratchDir();
  const fifo = `${work}/fifo`;
  const captured = `${work}/captured`;
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  writeFileSync(captured, '');
  const reader = spawn('sh', ['-c', 'while :; do cat "$1" >> "$2"; done', 'reader', fifo, captured], { detached: true, stdio: 'ignore' });
  return { fifo, captured, reader };
}

test('item 6: links to a FIFO planted at the temp names the writer will use (from its pid, or seen in an earlier identical write) capture nothing and are never followed', async () => {
  for (const shell of SHELLS) {
    const dir = scratchDir();
    const { fifo, captured, reader } = plantedFifo();
    const c = putFiles([file(`${dir}/secret`, 'SECRET-CONTENT-1\n', { mode: '0600', validate: 'echo %s' }), file(`${dir}/key`, 'SECRET-CONTENT-2\n', { mode: '0600', validate: 'echo %s' })]);
    // The same write once before, as the attacker watching the directory would see its names.
    const first = spawnSync(shell, ['-c', c.bytes.toString('latin1')], { input: c.stdinBytes() });
    assert.equal(first.status, 0, first.stderr.toString());
    const known = printedTemps(first.stdout.toString());
    assert.equal(known.length, 2);
    execFileSync('rm', ['-f', `${dir}/secret`, `${dir}/key`]);

    const writer = runWithPlantedLinks(c, shell, dir, fifo, known);
    let stderr = '';
    writer.stderr!.on('data', (d) => (stderr += d));
    writer.stdout!.resume();
    writer.stdin!.end(c.stdinBytes());
    let code: number | string | null | undefined;
    const closed = new Promise<void>((r) => writer.on('close', (c2, signal) => ((code = c2 ?? signal), r())));
    // Until the writer ends, or the FIFO's reader got something (the old writer then blocks on the FIFO).
    while (code === undefined && readFileSync(captured, 'utf8') === '') await sleep(20);
    if (code === undefined) process.kill(-writer.pid!, 'SIGKILL');
    await closed;
    process.kill(-reader.pid!, 'SIGKILL');
    assert.equal(readFileSync(captured, 'utf8'), '', `nothing reached the planted FIFO (${shell})`);
    assert.equal(code, 0, stderr);
    assert.equal(readFileSync(`${dir}/secret`, 'utf8'), 'SECRET-CONTENT-1\n');
    assert.ok(statSync(`${dir}/secret`).isFile() && !lstatSync(`${dir}/secret`).isSymbolicLink(), 'the target is a regular file, not a planted link');
    assert.equal(modeOf(`${dir}/secret`), '0600');
    const links = readdirSync(dir).filter((n) => n.startsWith('.rigger.'));
    assert.ok(links.length >= known.length && links.every((n) => lstatSync(`${dir}/${n}`).isSymbolicLink() && readlinkSync(`${dir}/${n}`) === fifo), `the planted links are left as they were (${shell})`);
  }
});

test('item 6: a temp file swapped, while its content arrives, for a link to a 0600 file of that same content: the link\'s target is not chmodded, and the write fails', async () => {
  for (const shell of SHELLS) {
    const dir = scratchDir();
    const work = scratchDir();
    const victim = `${work}/victim`;
    // The same content, so that a checksum read through the link passes: only the chmod can tell.
    writeFileSync(victim, 'NEW CONTENT\n', { mode: 0o600 });
    const c = putFiles([file(`${dir}/conf`, 'NEW CONTENT\n', { mode: '0644' })]);
    const [head, ...data] = c.stdin;
    const writer = spawn(shell, ['-c', c.bytes.toString('latin1')], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    writer.stderr!.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => writer.on('close', r));
    // The headers only: the writer makes its temp file and waits for the content.
    writer.stdin!.write(head as string);
    let temp: string | undefined;
    while (!(temp = readdirSync(dir).find((n) => n.startsWith('.rigger.')))) await sleep(5);
    // The other user renames the temp file away and leaves a link to the victim in its place.
    renameSync(`${dir}/${temp}`, `${dir}/moved`);
    symlinkSync(victim, `${dir}/${temp}`);
    writer.stdin!.end(Buffer.concat(data.map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(d as string)))));
    const code = await closed;
    assert.equal(modeOf(victim), '0600', `the link's target is not chmodded (${shell})`);
    assert.notEqual(code, 0, 'the write fails: its temp file is not the one it made');
    assert.match(stderr, /replaced/);
    assert.ok(!existsSync(`${dir}/conf`), 'no target made from the link');
  }
});

test('item 11: validate runs no injected command: a directory named x;touch PWNED;, and shell syntax in the command, are words', () => {
  for (const shell of SHELLS) {
    const dir = scratchDir();
    const cwd = scratchDir();
    const odd = `${dir}/x;touch PWNED;`;
    mkdirSync(odd);
    const r1 = spawnSync(shell, ['-c', putFiles([file(`${odd}/conf`, 'wanted\n', { validate: 'grep -q wanted %s' })]).bytes.toString('latin1')], {
      cwd,
      input: putFiles([file(`${odd}/conf`, 'wanted\n', { validate: 'grep -q wanted %s' })]).stdinBytes(),
    });
    assert.deepEqual(readdirSync(cwd), [], `nothing injected ran (${shell})`);
    assert.equal(r1.status, 0, r1.stderr.toString());
    assert.equal(readFileSync(`${odd}/conf`, 'utf8'), 'wanted\n');
    // `;` and `&&` are no shell's here: `test` gets them as arguments, and fails.
    const c = putFiles([file(`${dir}/other`, 'wanted\n', { validate: 'test -s %s && touch PWNED2; touch PWNED3' })]);
    const r2 = spawnSync(shell, ['-c', c.bytes.toString('latin1')], { cwd, input: c.stdinBytes() });
    assert.deepEqual(readdirSync(cwd), [], `no word of the validate command ran as a command (${shell})`);
    assert.notEqual(r2.status, 0);
    assert.match(r2.stderr.toString(), /validation failed: 'test -s %s && touch PWNED2; touch PWNED3'/);
    assert.ok(!existsSync(`${dir}/other`));
  }
});

test('item 11: the temp path is one word wherever %s stands, on paths with a space, quotes, a backslash, a newline, $(...) and ;', () => {
  for (const shell of SHELLS) {
    const dir = scratchDir();
    const cwd = scratchDir();
    const odd = `${dir}/sub dir/it's "q" \\ $(touch PWNED) ;\nx`;
    const files = [
      file(`${odd}/a`, 'two words\n', { makeParents: true, validate: "grep -q 'two words' %s" }),
      file(`${odd}/b`, 'b\n', { validate: 'test -f %s' }),
      // %s inside a word, and the word given to an explicit shell as $1, never as its code.
      file(`${odd}/c`, 'c\n', { validate: `sh -c 'test "$1" = "$0"' --file=%s --file=%s` }),
    ];
    const c = putFiles(files);
    const r = spawnSync(shell, ['-c', c.bytes.toString('latin1')], { cwd, input: c.stdinBytes() });
    assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
    assert.deepEqual(readdirSync(cwd), [], 'nothing injected ran');
    assert.deepEqual([readFileSync(`${odd}/a`, 'utf8'), readFileSync(`${odd}/b`, 'utf8'), readFileSync(`${odd}/c`, 'utf8')], ['two words\n', 'b\n', 'c\n']);
  }
});

test('item 11: a validate command that cannot be split into words is refused, naming it', () => {
  assert.throws(() => putFiles([file('/tmp/x', 'x\n', { validate: "grep -q 'open %s" })]), /validate "grep -q 'open %s": No closing quotation/);
  assert.throws(() => putFiles([file('/tmp/x', 'x\n', { validate: '   ' })]), /validate "   ": no command/);
});

test('item 15: the sweep leaves a temp file another run wrote 30 s or 9 minutes ago (by the host\'s clock), and removes one 11 minutes old', () => {
  for (const shell of SHELLS) {
    const dir = scratchDir();
    const at = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    for (const [name, when] of [['.rigger.L1v3Run1', at(0.5)], ['.rigger.L1v3Run2', at(9)], ['.rigger.St4l3Old', at(11)]] as const) {
      writeFileSync(`${dir}/${name}`, 'another run\'s temp file');
      utimesSync(`${dir}/${name}`, when, when);
    }
    const r = run(putFiles([file(`${dir}/f`, 'f\n')]), shell);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['.rigger.L1v3Run1', '.rigger.L1v3Run2', 'f'], shell);
  }
});

test('item 15: a sync that fails stops the write before any rename', () => {
  for (const shell of SHELLS) {
    const dir = scratchDir();
    writeFileSync(`${dir}/f1`, 'old 1\n');
    writeFileSync(`${dir}/f2`, 'old 2\n');
    // The second temp file is gone by the time it is synced: `sync` fails on it.
    const r = run(putFiles([file(`${dir}/f1`, 'new 1\n'), file(`${dir}/f2`, 'new 2\n', { validate: 'rm %s' })]), shell);
    assert.deepEqual(tree(dir), { f1: 'old 1\n', f2: 'old 2\n' }, `no target replaced, no temp file (${shell})`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /sync/);
  }
});

test('item 6: links to a FIFO planted at the backup names of the next seconds capture none of the old content', async () => {
  for (const shell of SHELLS) {
    const dir = scratchDir();
    const { fifo, captured, reader } = plantedFifo();
    writeFileSync(`${dir}/secret`, 'OLD-SECRET\n', { mode: 0o600 });
    // The backup is named PATH.YYYY-MM-DD@HH:MM:SS~ by the host's clock: guessable to the second.
    const pad = (n: number) => String(n).padStart(2, '0');
    for (let s = -2; s <= 10; s++) {
      const t = new Date(Date.now() + s * 1000);
      const stamp = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}@${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
      if (!existsSync(`${dir}/secret.${stamp}~`)) symlinkSync(fifo, `${dir}/secret.${stamp}~`);
    }
    const c = putFiles([file(`${dir}/secret`, 'NEW-SECRET\n', { mode: '0600', backup: true })]);
    const writer = spawn(shell, ['-c', c.bytes.toString('latin1')], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    writer.stderr!.on('data', (d) => (stderr += d));
    writer.stdin!.end(c.stdinBytes());
    const code = await new Promise((r) => writer.on('close', r));
    process.kill(-reader.pid!, 'SIGKILL');
    assert.equal(readFileSync(captured, 'utf8'), '', `nothing reached the planted FIFO (${shell})`);
    assert.equal(code, 0, stderr);
    assert.equal(readFileSync(`${dir}/secret`, 'utf8'), 'NEW-SECRET\n');
    const backups = readdirSync(dir).filter((n) => !lstatSync(`${dir}/${n}`).isSymbolicLink() && n.startsWith('secret.'));
    assert.equal(backups.length, 1, `one backup, a regular file (${shell})`);
    assert.equal(readFileSync(`${dir}/${backups[0]}`, 'utf8'), 'OLD-SECRET\n');
    assert.equal(modeOf(`${dir}/${backups[0]}`), '0600');
  }
});
