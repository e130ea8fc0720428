import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret } from '../../lib/shell/secret.ts';
import { renderEnv } from '../../lib/ops/compose/env-file.ts';
import { runCli } from '../helpers/cli.ts';
import { leaks } from '../helpers/secret-forms.ts';
import { localInventory } from '../helpers/run.ts';

const COMPOSE_YML = 'services:\n  app:\n    image: app:1\n';
/** Secret values with quotes, a backslash, `$`, spaces and non-ASCII, each run its own. */
const value = (tag: string) => `${tag}-${Math.random().toString(36).slice(2, 10)} it's "q" \\ $HOME ü€`;

/**
 * A `docker` that answers as a host without a running engine: the probe's
 * `docker compose config` and `ps` print nothing, so only the files decide.
 * (This suite may not use the machine's Docker.)
 */
function noEngineDocker(): string {
  const bin = mkdtempSync(path.join(tmpdir(), 'no-engine-'));
  writeFileSync(path.join(bin, 'docker'), '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n');
  chmodSync(path.join(bin, 'docker'), 0o755);
  return bin;
}

interface DiffRun {
  /** Each mode's whole output: -vvv --diff plain lines, --json, and the --report page. */
  outputs: Record<string, string>;
  /** The plain run's diff lines about the env file's keys. */
  envLines: string[];
}

/** `--check --diff` of a project whose host .env holds `before` (and a secret key the inventory dropped) and whose inventory sets `after`. */
async function diffRun(before: { password: string; removed: string }, after: string, secretNowPlain = false): Promise<DiffRun> {
  const work = mkdtempSync(path.join(tmpdir(), 'env-diff-'));
  const dir = path.join(work, 'project');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'compose.yml'), COMPOSE_YML);
  // The file as rigger wrote it on an earlier run, a key since removed from the inventory included.
  writeFileSync(path.join(dir, '.env'), renderEnv({ PLAIN: 'one', PASSWORD: new Secret(before.password), OLD_TOKEN: new Secret(before.removed) }).text, { mode: 0o600 });
  const valuesFile = path.join(work, 'values.json');
  writeFileSync(valuesFile, JSON.stringify({ plain: 'two', secret: after, secretNowPlain }));
  const inv = localInventory(['here']);
  const env = { PROJECT_DIR: dir, VALUES_FILE: valuesFile, PATH: `${noEngineDocker()}:${process.env.PATH}` };
  const base = ['test/fixtures/playbooks/compose-env-diff.ts', '-i', inv, '--check', '--diff', '-vvv'];
  const outputs: Record<string, string> = {};
  const plain = await runCli(base, env);
  assert.equal(plain.code, 0, plain.stdout + plain.stderr);
  outputs.plain = plain.stdout + plain.stderr;
  const json = await runCli([...base, '--json'], env);
  assert.equal(json.code, 0, json.stdout + json.stderr);
  outputs.json = json.stdout + json.stderr;
  const report = path.join(work, 'report.html');
  const withReport = await runCli([...base, '--report', report], env);
  assert.equal(withReport.code, 0, withReport.stdout + withReport.stderr);
  outputs.report = withReport.stdout + withReport.stderr + readFileSync(report, 'utf8');
  // Diff lines as plain output prints them: `  [here] -KEY=...`.
  const envLines = outputs.plain
    .split('\n')
    .map((l) => l.replace(/^\s*\[here\] /, ''))
    .filter((l) => /^[-+](PLAIN|PASSWORD|OLD_TOKEN)=/.test(l));
  return { outputs, envLines };
}

/** Short digests too: the first 8 to 16 hex digits of each value's sha256, sha1 and md5, as a file line may hold them. */
function digestPrefixes(values: string[]): string[] {
  return values.flatMap((v) =>
    ['sha256', 'sha1', 'md5'].flatMap((alg) =>
      [v, `'${v}'`, JSON.stringify(v)].map((text) => createHash(alg).update(text).digest('hex').slice(0, 8)),
    ),
  );
}

test('item 8: a changed secret in an env file shows as changed in --diff, -vvv, --json and --report, with no function of its old or new value', async () => {
  const a = { password: value('old'), removed: value('gone') };
  const b = value('new');
  const first = await diffRun(a, b);
  for (const [mode, text] of Object.entries(first.outputs)) {
    assert.deepEqual(leaks(text, [a.password, a.removed, b]), [], `${mode}: no value in any form`);
    const prefixes = digestPrefixes([a.password, a.removed, b]).filter((p) => text.includes(p));
    assert.deepEqual(prefixes, [], `${mode}: no digest, not even a short one`);
  }
  // The diff says what changed: the plain value (its old value hidden, review item 3), and that the secret changed and the dropped key went.
  assert.ok(first.envLines.some((l) => l.startsWith('-PLAIN=')) && first.envLines.includes('+PLAIN=two'), first.envLines.join('\n'));
  assert.ok(first.envLines.some((l) => l.startsWith('-PASSWORD=')) && first.envLines.some((l) => l.startsWith('+PASSWORD=')), `the secret is shown as changed:\n${first.envLines.join('\n')}`);
  assert.ok(first.envLines.some((l) => l.startsWith('-OLD_TOKEN=')), `the removed key is shown as removed:\n${first.envLines.join('\n')}`);

  // Any function of the values would differ between two runs with other values: the diff lines are the same.
  const second = await diffRun({ password: value('old'), removed: value('gone') }, value('new'));
  assert.deepEqual(second.envLines, first.envLines, 'the diff is the same whatever the secret values are');
});

test('item 8: an unchanged secret is not shown as changed when another key of the env file changes', async () => {
  const same = value('same');
  const run = await diffRun({ password: same, removed: value('gone') }, same);
  assert.ok(run.envLines.some((l) => l.startsWith('-PLAIN=')) && run.envLines.includes('+PLAIN=two'), run.envLines.join('\n'));
  assert.ok(!run.envLines.some((l) => l.includes('PASSWORD')), `the unchanged secret is not in the diff:\n${run.envLines.join('\n')}`);
  for (const text of Object.values(run.outputs)) assert.deepEqual(leaks(text, [same]), []);
});

test('review item 3: a key changed from a !vault secret to a plain value shows nothing of the former secret in --diff, -vvv, --json or --report', async () => {
  const former = { password: value('former'), removed: value('gone') };
  const run = await diffRun(former, 'now-plain', true);
  for (const [mode, text] of Object.entries(run.outputs)) assert.deepEqual(leaks(text, [former.password, former.removed]), [], `${mode}: nothing of the former secret`);
  // Still a useful diff: the key changed, and its new value is plain, so it is shown.
  assert.ok(run.envLines.some((l) => l.startsWith('-PASSWORD=')) && run.envLines.includes('+PASSWORD=now-plain'), run.envLines.join('\n'));
});
