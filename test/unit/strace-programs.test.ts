// The strace log reader the put-files and path-batch tests and the remote-cost
// benchmark count programs with (test/helpers/strace.ts), on a real trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXECVE_TRACE, programsStarted } from '../helpers/strace.ts';
import { scratchDir } from '../helpers/run.ts';

test('programsStarted names every program a traced shell started, pipelines and nested shells included, and no failed execve', () => {
  const trace = path.join(scratchDir(), 'trace');
  // `./no-such-program` is an execve that fails (ENOENT): not started.
  const script = '/bin/echo x | cat >/dev/null; ./no-such-program 2>/dev/null; sh -c "printf y | head -c1 >/dev/null"; true';
  const r = spawnSync('strace', [...EXECVE_TRACE, '-o', trace, 'dash', '-c', script]);
  assert.equal(r.status, 0, r.stderr.toString());
  const log = readFileSync(trace, 'utf8');
  assert.match(log, /execve\("\.\/no-such-program".* = -1 ENOENT/, 'the failed execve is in the log');
  assert.deepEqual(programsStarted(log).sort(), ['cat', 'dash', 'echo', 'head', 'sh']);
});

test('programsStarted counts a call strace split over two lines once, under the name its first line gave', () => {
  // strace -f's form when two processes of a pipeline exec at the same moment.
  const log = [
    '101 execve("/usr/bin/sha256sum", ["sha256sum", "-c"], 0x5581 /* 9 vars */ <unfinished ...>',
    '102 execve("/usr/bin/head", ["head", "-c", "6"], 0x5582 /* 9 vars */) = 0',
    '101 <... execve resumed>)              = 0',
    '103 execve("/usr/bin/mv", ["mv"], 0x5583 /* 9 vars */ <unfinished ...>',
    '103 <... execve resumed>)              = -1 ENOENT (No such file or directory)',
  ].join('\n');
  assert.deepEqual(programsStarted(log), ['head', 'sha256sum']);
});
