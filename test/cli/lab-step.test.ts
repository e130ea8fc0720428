import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';

// The lab's long local step (its image build): an ora spinner in a terminal,
// plain lines in a pipe. A stand-in step that reports progress twice.
const STEP = `import('./scripts/lab/step.ts').then((m) => m.step('base image x', async (say) => { say('debootstrap'); await new Promise((r) => setTimeout(r, 300)); say('importing'); return 'debootstrap'; }, (how) => 'base image x (' + how + ')'))`;

/** ora spins only where no CI variable is set (whatever its value). */
function withoutCi(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CI: _ci, ...rest } = env;
  return rest;
}

test('in a terminal the step is an ora spinner that ends in a tick with what it did', () => {
  // `script` gives the step a real pseudo-terminal.
  const r = spawnSync('script', ['-qefc', `stty cols 100 rows 20; node_modules/.bin/tsx -e ${JSON.stringify(STEP)}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000, env: withoutCi({ ...process.env, TERM: 'xterm-256color' }) });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const screen = stripVTControlCharacters(r.stdout);
  assert.match(screen, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] base image x: (debootstrap|importing)/, 'a spinner with the progress');
  assert.match(screen, /✔ base image x \(debootstrap\) \(\d+ s\)/);
  assert.doesNotMatch(screen, /^ {2}debootstrap$/m, 'no plain progress lines');
});

test('in a pipe the step prints plain lines: its title, each progress line, done', () => {
  const r = spawnSync('node_modules/.bin/tsx', ['-e', STEP], { encoding: 'utf8', timeout: 60_000, env: withoutCi(process.env) });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^base image x\n {2}debootstrap\n {2}importing\nbase image x \(debootstrap\): done in \d+ s\n$/);
});
