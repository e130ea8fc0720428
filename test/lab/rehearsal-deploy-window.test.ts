// Issue 29, acceptance 6: on the converged rehearsal of the real cluster,
// `deploy.ts` of a new SGLang stand-in image that loads for 120 s (as the
// real 9B model over NFS) is not rolled back; one that never becomes healthy
// is rolled back once Docker has judged it unhealthy, after its health
// window, and the failure names the window (stacks/ai.yml's healthcheck:
// 150 s, lib/ops/docker/health-window.ts). Both images are the rehearsal's
// SGLang stand-in rebuilt here under tags of their own in the lab registry,
// one with a release marker (a new digest), one whose load never ends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { $ } from 'zx';
import { raw, sh } from '../../lib/shell/command.ts';
import { composeHealthWindow } from '../../lib/ops/docker/health-window.ts';
import { interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { dockerBuild } from '../../scripts/lab/image.ts';
import { PUSH_REGISTRY, REGISTRY } from '../../scripts/lab/services.ts';
import { REHEARSAL_SGLANG_LOAD_SECONDS, rehearsalImageMap } from '../../scripts/lab/standins.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';
import { onNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/data-node.ts';
import type { CliResult } from '../helpers/cli.ts';

$.verbose = false;

let inv: string;
/** The rehearsal's own SGLang image, as the service ran it before this suite. */
let original: string;
const images = { slow: `${REGISTRY}/lab/standin/sglang:next-loads-120s`, never: `${REGISTRY}/lab/standin/sglang:next-never-healthy` };

const gateway = async (script: string) => (await onNode(inv, 'gateway', sh`${raw(script)}`)).stdout.trim();
const imageOf = () => gateway(`docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' ai_sglang`);
const out = (r: CliResult) => `${r.stdout}\n${r.stderr}`;
const deploy = (image: string) => onRehearsal('playbooks/deploy.ts', ['ai_sglang', '--image', image], 20 * 60_000);

/** SGLang's window as stacks/ai.yml's healthcheck gives it: what the failure must name. */
const sglangWindow = () => composeHealthWindow(parseCompose(interpolate(readFileSync('stacks/ai.yml', 'utf8'), { SGLANG_MODEL: 'm', REGISTRY: 'r', LANGGRAPH_TAG: 't', ENDPOINT_MODE: 'vip', PUBLISH_MODE: 'ingress' }).text).compose!.services.sglang!.healthcheck)!;

before(async () => {
  inv = await convergedRehearsal();
  original = await imageOf();
  // The rehearsal's stand-in as this machine's engine names it (the lab registry's port on loopback), then two new releases of it.
  const base = rehearsalImageMap()['lmsysorg/sglang:v0.3.6-cu124']!.replace(REGISTRY, PUSH_REGISTRY);
  if ((await $`docker image inspect ${base}`.nothrow().quiet()).exitCode !== 0) await $`docker pull -q ${base}`;
  const lines = { slow: `RUN echo next > /RELEASE\nENV SGLANG_STANDIN_LOAD_SECONDS=${REHEARSAL_SGLANG_LOAD_SECONDS}`, never: 'RUN echo never > /RELEASE\nENV SGLANG_STANDIN_LOAD_SECONDS=1000000' };
  for (const [name, line] of Object.entries(lines) as [keyof typeof images, string][]) {
    const local = images[name].replace(REGISTRY, PUSH_REGISTRY);
    await dockerBuild(local, `FROM ${base}\n${line}\n`);
    await $`docker push -q ${local}`;
  }
});

// The rehearsal as it was: the never-healthy release was rolled back to it by deploy.ts, and the 120 s one
// replaced it; Swarm keeps the spec before that one (the rehearsal's own, as site.ts recorded it), so a
// `docker service rollback` gives back exactly that spec and the next suite's `site.ts --check` finds no drift.
// It waits for the spec, not for the load that follows: this suite runs last (scripts/test-lab.ts), and a
// suite that needs SGLang to answer waits for it itself.
after(async () => {
  if (!inv || !original || (await imageOf()) === original) return;
  const previous = await gateway(`docker service inspect --format '{{.PreviousSpec.TaskTemplate.ContainerSpec.Image}}' ai_sglang`);
  assert.equal(previous, original, 'the spec before this suite is the one Swarm can roll back to');
  await gateway('docker service rollback --detach ai_sglang >/dev/null');
  await waitFor('ai_sglang back on the rehearsal image', async () => (await imageOf()) === original, 5 * 60_000);
});

test('a release that never becomes healthy is rolled back after its health window, and the failure names the window', async () => {
  const window = sglangWindow();
  assert.equal(window, 150);
  const r = await deploy(images.never);
  assert.notEqual(r.code, 0, out(r));
  assert.match(out(r), new RegExp(`ai_sglang: the rollout failed \\(its health window: ${window} s\\)`), out(r));
  assert.match(out(r), new RegExp(`its health window: ${window} s from its container's start`), out(r));
  assert.match(out(r), /rolled back ai_sglang: the previous version is healthy again/, out(r));
  // The rollout waited for Docker's own verdict (given only once the window from the container's start has
  // passed): the new release's task failed as unhealthy before the rollback, not merely slow when it was given up.
  const history = await gateway(`docker service ps --no-trunc --format '{{.Image}} {{.CurrentState}} {{.Error}}' ai_sglang`);
  assert.match(history, /next-never-healthy@sha256:[0-9a-f]{64} Failed .*unhealthy container/, history);
  assert.equal(await imageOf(), original, 'the rehearsal image runs again');
  assert.match(out(await onRehearsal('playbooks/deploy.ts', ['--history'])), /deploy +rolled back +ai_sglang .*next-never-healthy/);
});

test('a release that loads for 120 s, inside its 150 s window, is deployed and not rolled back', async () => {
  const r = await deploy(images.slow);
  assert.equal(r.code, 0, out(r));
  assert.doesNotMatch(out(r), /rolled back/);
  const running = await imageOf();
  assert.match(running, /lab\/standin\/sglang:next-loads-120s@sha256:[0-9a-f]{64}$/, 'the new release runs, pinned to its digest');
  // Its task loaded for the full 120 s before it answered (the stand-in prints its load time as it starts).
  const task = await gateway('docker service ps -q --filter desired-state=running ai_sglang | head -n1');
  assert.match(await gateway(`docker service logs --no-task-ids ${task} 2>&1`), new RegExp(`loading for ${REHEARSAL_SGLANG_LOAD_SECONDS} s \\(SGLANG_STANDIN_LOAD_SECONDS\\)`));
  assert.match(await gateway(`docker service ls --filter name=ai_sglang --format '{{.Replicas}}'`), /^1\/1$/);
  assert.match(out(await onRehearsal('playbooks/deploy.ts', ['--history'])), /deploy +ok +ai_sglang .*next-loads-120s/);
});
