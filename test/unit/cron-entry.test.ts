// Issue 27 item 12: the cron op's values as Debian's real cron daemon reads
// them (test/helpers/cron.ts runs it in a private mount namespace): a `%` or
// `\` in the command and any value cron can hold in an environment line
// reach the job as written, run by dash and by bash; what cron cannot hold
// (a line break; both quote kinds in a value that starts with a quote or a
// blank) is refused naming the variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quote } from '../../lib/shell/quote.ts';
import { definePlay, InputError, ops } from '../../lib/index.ts';
import { runUnderCron } from '../helpers/cron.ts';
import { hostileStrings } from '../helpers/hostile.ts';
import { localInventory, runPlays, scratchDir } from '../helpers/run.ts';

/** The hostile strings a JS string can carry exactly (valid UTF-8) that fit on one line. */
function oneLineStrings(canary: string): string[] {
  const extra = ['%', 'a%b', '\\%', '\\\\%', '%%', 'date +%F', '\\', 'a\\\\b', `'x'`, `"x"`, ' x ', '', '#', '=', 'A=B'];
  const decoded = hostileStrings(canary)
    .map((b) => b.toString('utf8'))
    .filter((s, i, all) => all.indexOf(s) === i && !/[\n\r\0\ufffd]/.test(s));
  return [...extra, ...decoded];
}

test('item 12: cron env values cron cannot hold are refused, naming the variable', async () => {
  const bad = { NEWLINE: 'a\ntouch /tmp/x', CR: 'a\rb', BOTH_QUOTED: `'it's "x"'`, BOTH_BLANK: ` it's "x"` };
  for (const [name, value] of Object.entries(bad)) {
    const play = definePlay({ name: 'cron', hosts: 'all', tasks: ({ task }) => [task({ name: 'job', op: ops.cron({ name: 'rigger-test', schedule: '@daily', command: 'true', env: { [name]: value } }) })] });
    await assert.rejects(
      runPlays(localInventory(['a']), [play], { check: true }),
      (e: unknown) => e instanceof InputError && e.message.includes(`invalid parameter env.${name} of cron.entry`),
      name,
    );
  }
});

test('item 12: a schedule with a line break is refused', async () => {
  const play = definePlay({ name: 'cron', hosts: 'all', tasks: ({ task }) => [task({ name: 'job', op: ops.cron({ name: 'rigger-test', schedule: '0\n2 * * *', command: 'true' }) })] });
  await assert.rejects(runPlays(localInventory(['a']), [play], { check: true }), (e: unknown) => e instanceof InputError && e.message.includes('invalid parameter schedule of cron.entry'));
});

/** Values in groups whose quoted words fit one job line (cron reads 999 bytes of it). */
function chunks(values: string[], bytes: number): string[][] {
  const out: string[][] = [[]];
  let size = 0;
  for (const v of values) {
    const n = quote(v).length + 1;
    if (size + n > bytes && out.at(-1)!.length) {
      out.push([]);
      size = 0;
    }
    out.at(-1)!.push(v);
    size += n;
  }
  return out;
}

test('item 12: Debian\'s cron runs the op\'s job with %, \\ and hostile values exactly as written, under dash and bash', async () => {
  const out = scratchDir();
  const canary = path.join(scratchDir(), `PWNED-${randomBytes(6).toString('hex')}`);
  const values = oneLineStrings(canary);
  // What cron cannot hold is refused (the test above); a value with both quote kinds that it can hold is kept.
  const envValues = values.filter((v) => !(v.includes('"') && v.includes("'") && (/^['"]/.test(v) || /^\s|\s$/.test(v))));
  const words = (vs: string[]) => vs.map((v) => quote(v).toString('utf8')).join(' ');
  const jobs: { name: string; command: string; env: Record<string, string>; want: string[] }[] = [];
  for (const shell of ['/bin/sh', '/bin/bash']) {
    const tag = path.basename(shell);
    // Each value as a word of the command: printf gives it back NUL-terminated.
    chunks(values, 400).forEach((vs, i) => jobs.push({ name: `cmd-${tag}-${i}`, command: `printf '%s\\0' ${words(vs)} > ${out}/cmd-${tag}-${i}`, env: { SHELL: shell }, want: vs }));
    // Each value in its own environment line: env -0 gives them back.
    const env = Object.fromEntries(envValues.map((v, i) => [`HOSTILE_${i}`, v]));
    jobs.push({ name: `env-${tag}`, command: `env -0 > ${out}/env-${tag}`, env: { SHELL: shell, ...env }, want: envValues });
  }
  // Every job first marks that it started (even one whose command cron cut short).
  const marked = jobs.map((j) => ({ ...j, command: `: > ${out}/started-${j.name}; ${j.command}` }));
  // The real path: the CLI runs the cron op on the local connection, which writes /etc/cron.d (the namespace's).
  const dir = scratchDir();
  const spec = path.join(dir, 'jobs.json');
  writeFileSync(spec, JSON.stringify(marked));
  const playbook = path.join(dir, 'cron.mts');
  writeFileSync(
    playbook,
    `import { readFileSync } from 'node:fs';\nimport { definePlay, ops, runPlaybook } from ${JSON.stringify(path.resolve('lib/index.ts'))};\n` +
      `const jobs = JSON.parse(readFileSync(${JSON.stringify(spec)}, 'utf8'));\n` +
      `await runPlaybook(() => [definePlay({ name: 'cron', hosts: 'all', tasks: ({ task }) => jobs.map((j) => task({ name: j.name, op: ops.cron({ name: 'rigger-' + j.name, schedule: '* * * * *', command: j.command, env: j.env }) })) })]);\n`,
  );
  const started = jobs.map((j) => `${out}/started-${j.name}`);
  const { setup } = await runUnderCron([path.resolve('node_modules/.bin/tsx'), playbook, '-i', localInventory(['a'])], started, { NO_COLOR: '1' });
  assert.match(setup, new RegExp(`changed=${jobs.length} +unreachable=0 +failed=0`), setup);
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  for (const j of jobs) {
    if (j.name.startsWith('cmd-')) {
      assert.deepEqual(read(`${out}/${j.name}`).split('\0').slice(0, -1), j.want, `${j.name}: each word as written`);
    } else {
      const env = new Map(read(`${out}/${j.name}`).split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      assert.deepEqual(j.want.map((_, i) => env.get(`HOSTILE_${i}`)), j.want, `${j.name}: each environment value as written`);
    }
  }
  assert.equal(existsSync(canary), false, 'an injected command ran');
});
