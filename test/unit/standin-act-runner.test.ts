// The act_runner stand-in (scripts/lab/standin.py's act_runner_start, spec in scripts/lab/standins.ts) does what
// the gitea/act_runner:0.2.11 image's run.sh does: registers once into /data/.runner with GITEA_RUNNER_LABELS,
// refuses what `act_runner register` refuses (no instance, no token, a label schema other than host or docker),
// and keeps the registered labels on later starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';
import { refusal, stackEnvironment, startStandIn } from '../helpers/standin.ts';

const SPEC = STANDINS['gitea/act_runner:0.2.11']!;

function runnerIn(dir: string) {
  const token = path.join(dir, 'gitea_runner_token');
  writeFileSync(token, 'registration-token\n');
  const data = path.join(dir, 'data');
  const spec = { ...SPEC, runner: { dir: data }, writes: [data] };
  // stacks/cicd.yml's environment, the secret's path made this test's file.
  const env: Record<string, string> = { ...stackEnvironment('cicd', 'act_runner'), GITEA_RUNNER_REGISTRATION_TOKEN_FILE: token };
  const stateFile = path.join(data, '.runner');
  return { spec, env, stateFile, token };
}

async function startedDaemon(spec: typeof SPEC, env: Record<string, string>) {
  const s = startStandIn(spec, [], env);
  await s.printed(/daemon: runner: /);
  s.stop();
  return (await s.exit).stdout;
}

test("act_runner stand-in: registers with stacks/cicd.yml's labels into .runner, as act_runner writes it", async () => {
  const { spec, env, stateFile } = runnerIn(scratchDir());
  assert.equal(env.GITEA_RUNNER_LABELS, 'jetson,nvidia,arm64');
  const out = await startedDaemon(spec, env);
  assert.match(out, /Runner registered successfully/);
  const reg = JSON.parse(readFileSync(stateFile, 'utf8')) as { WARNING: string; name: string; address: string; labels: string[]; uuid: string; token: string };
  assert.deepEqual(reg.labels, ['jetson', 'nvidia', 'arm64']);
  assert.equal(reg.address, env.GITEA_INSTANCE_URL);
  assert.equal(reg.name, env.GITEA_RUNNER_NAME);
  assert.match(reg.WARNING, /Removing this file will cause act runner to re-register/);
  assert.notEqual(reg.token, 'registration-token', "the runner's own token, not the registration token");
});

test('act_runner stand-in: a later start keeps the registered labels, whatever GITEA_RUNNER_LABELS says, and needs no token then', async () => {
  const { spec, env, stateFile, token } = runnerIn(scratchDir());
  await startedDaemon(spec, env);
  const first = readFileSync(stateFile, 'utf8');
  writeFileSync(token, '');
  const out = await startedDaemon(spec, { ...env, GITEA_RUNNER_LABELS: 'ubuntu-latest' });
  assert.doesNotMatch(out, /registered successfully/);
  assert.match(out, /with labels: \['jetson', 'nvidia', 'arm64'\]/);
  assert.equal(readFileSync(stateFile, 'utf8'), first);
});

test('act_runner stand-in: without labels it registers act_runner\'s defaults', async () => {
  const { spec, env, stateFile } = runnerIn(scratchDir());
  await startedDaemon(spec, { ...env, GITEA_RUNNER_LABELS: '' });
  assert.match((JSON.parse(readFileSync(stateFile, 'utf8')) as { labels: string[] }).labels[0]!, /^ubuntu-latest:docker:\/\//);
});

test('act_runner stand-in: refuses to register without GITEA_INSTANCE_URL, without a token, or with a label schema act_runner does not know', async () => {
  for (const [change, error] of [
    [{ GITEA_INSTANCE_URL: '' }, 'instance address is empty'],
    [{ GITEA_RUNNER_REGISTRATION_TOKEN_FILE: '/nonexistent/token' }, 'token is empty'],
    [{ GITEA_RUNNER_LABELS: 'jetson:ssh://x' }, 'unsupported schema: ssh'],
  ] as [Record<string, string>, string][]) {
    const { spec, env, stateFile } = runnerIn(scratchDir());
    const r = await refusal(startStandIn(spec, [], { ...env, ...change }));
    assert.equal(r.code, 1, JSON.stringify(change));
    assert.ok(r.stderr.includes(`error="${error}"`), r.stderr);
    assert.equal(existsSync(stateFile), false, 'nothing registered');
  }
});
