// Health windows (issue 29, item 8): a service with a healthcheck is waited
// on for at least start_period + retries x interval, read from the real
// stack files and from the live spec Docker reports; the inventory's
// health_windows overrides it, and a bad value names its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { definePlay, ops } from '../../lib/index.ts';
import { InputError } from '../../lib/shell/errors.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { resolveHostVars, typedVars } from '../../lib/runner/host-vars.ts';
import { interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { composeHealthWindow, durationSeconds, stillWaiting, windowNote } from '../../lib/ops/docker/health-window.ts';
import { parseHealth } from '../../lib/ops/docker/health.ts';
import { convergeSeconds } from '../../lib/ops/docker/stack.ts';
import { parseDeployState, planDeploy } from '../../lib/ops/docker/deploy.ts';
import { healthDefaults } from '../../roles/health/index.ts';
import { REHEARSAL_SGLANG_LOAD_SECONDS, STANDINS } from '../../scripts/lab/standins.ts';
import { localInventory, runPlays, scratchDir } from '../helpers/run.ts';

const aiStack = () => parseCompose(interpolate(readFileSync('stacks/ai.yml', 'utf8'), { SGLANG_MODEL: 'm', REGISTRY: 'r', LANGGRAPH_TAG: 't', ENDPOINT_MODE: 'vip', PUBLISH_MODE: 'ingress' }).text).compose!;

// LangGraph carries none: its database is made after the stacks converge (stacks/ai.yml says why).
test("the real ai stack's healthchecks give SGLang its 150 s window (60 s + 3 x 30 s), Ollama 90 s, LangGraph none", () => {
  const ai = aiStack();
  assert.deepEqual(
    Object.fromEntries(Object.entries(ai.services).map(([k, v]) => [k, composeHealthWindow(v.healthcheck)])),
    { sglang: 150, ollama: 90, langgraph: undefined },
  );
  assert.equal(durationSeconds('1m30s'), 90);
  assert.equal(composeHealthWindow({ test: ['NONE'] }), undefined);
  assert.equal(composeHealthWindow({ test: 'true' }), 90, "Docker's defaults: 3 x 30 s");
});

test("the rehearsal's SGLang stand-in loads for less than its healthcheck tolerates, inside its window", () => {
  const hc = aiStack().services.sglang!.healthcheck!;
  // Failures after start_period count: the retries-th counted probe, at start_period + (retries - 1) x interval,
  // is the last one a slower start survives; past it Docker marks the task unhealthy and Swarm replaces it.
  const lastChance = durationSeconds(hc.start_period!) + (hc.retries! - 1) * durationSeconds(hc.interval!);
  assert.equal(STANDINS['lmsysorg/sglang:v0.3.6-cu124']!.load?.seconds, REHEARSAL_SGLANG_LOAD_SECONDS);
  assert.ok(REHEARSAL_SGLANG_LOAD_SECONDS < lastChance, `${REHEARSAL_SGLANG_LOAD_SECONDS} s < ${lastChance} s`);
  assert.ok(REHEARSAL_SGLANG_LOAD_SECONDS < composeHealthWindow(hc)!);
});

test('the stack convergence waits at least the longest window of its services, or the inventory\'s override', () => {
  const parsed = aiStack();
  assert.equal(convergeSeconds({ name: 'ai', parsed, timeoutSeconds: 60, healthWindows: {} }), 150);
  assert.equal(convergeSeconds({ name: 'ai', parsed, timeoutSeconds: 300, healthWindows: {} }), 300, 'the fixed timeout when it is longer');
  assert.equal(convergeSeconds({ name: 'ai', parsed, timeoutSeconds: 60, healthWindows: { ai_sglang: 600 } }), 600);
  const noHealthcheck = { ...parsed, services: { web: { ...parsed.services.sglang!, healthcheck: undefined } } };
  assert.equal(convergeSeconds({ name: 'lab', parsed: noHealthcheck, timeoutSeconds: 60, healthWindows: {} }), 60, 'no healthcheck: the fixed timeout');
});

test("the health reading takes each service's window from its live healthcheck (Docker's nanoseconds)", () => {
  const hc = JSON.stringify({ Test: ['CMD', 'curl', '-f', 'http://localhost:8000/health'], Interval: 30e9, Timeout: 10e9, StartPeriod: 60e9, Retries: 3 });
  const rows = parseHealth(`ai_sglang 0/1\nai_ollama 1/1\n@@healthcheck ai_sglang ${hc}\n@@healthcheck ai_ollama null\n`, []);
  assert.ok(Array.isArray(rows));
  assert.equal(rows.find((r) => r.service === 'ai_sglang')!.window, 150);
  assert.equal(rows.find((r) => r.service === 'ai_ollama')!.window, undefined);
});

test('a deploy waits on an updated service for its live window; the override wins', () => {
  const spec = JSON.stringify({ Name: 'ai_sglang', TaskTemplate: { ContainerSpec: { Image: 'sglang:1', Healthcheck: { Test: ['CMD', 'true'], Interval: 30e9, StartPeriod: 60e9, Retries: 3 } } } });
  const state = parseDeployState(`@@service ai_sglang\n${spec}\n@@digest sglang:2 sha256:${'2'.repeat(64)}\n`);
  const p = { services: [{ name: 'ai_sglang', image: 'sglang:2' }], checks: [], retries: 0, delaySeconds: 3, timeoutSeconds: 60, user: 'u', action: 'deploy' };
  assert.equal(planDeploy(p, state).changes[0]!.window, 150);
  assert.equal(planDeploy({ ...p, healthWindows: { ai_sglang: 240 } }, state).changes[0]!.window, 240);
});

test('a wait goes on for the fixed retries, and past them only while an unhealthy service is inside its window', () => {
  const sglang = { service: 'ai_sglang', window: 150 };
  const web = { service: 'lab_web' };
  assert.equal(stillWaiting([web], 3, 3, 0), true, 'the fixed retries first');
  assert.equal(stillWaiting([web], 4, 3, 0), false, 'no window: done after retries + 1 attempts');
  assert.equal(stillWaiting([sglang], 11, 10, 149), true, 'SGLang inside its window');
  assert.equal(stillWaiting([sglang], 51, 10, 150), false, 'SGLang past it');
  assert.equal(stillWaiting([web, sglang], 11, 10, 30), true, 'one service inside its window keeps the wait');
  assert.equal(stillWaiting([], 1, 10, 0), false);
  assert.equal(windowNote([web]), '', 'the fixed wait keeps its message');
  assert.match(windowNote([web, sglang]), /health window: ai_sglang 150 s/);
});

test('giveUpWhen stops a retried task before its retries run out', async () => {
  const dir = scratchDir();
  const counter = `${dir}/n`;
  writeFileSync(counter, '0');
  const play = definePlay({
    name: 'p',
    hosts: 'all',
    tasks: ({ task }) => [
      task({
        name: 'count',
        op: ops.shell({ script: `n=$(($(cat ${counter}) + 1)); echo $n > ${counter}; echo $n` }),
        until: () => false,
        failedWhen: () => true,
        retries: 1000,
        delaySeconds: 0.01,
        giveUpWhen: (_r, _h, t) => t.attempts >= 3,
      }),
    ],
  });
  const o = await runPlays(localInventory(['a']), [play]);
  assert.equal(readFileSync(counter, 'utf8').trim(), '3');
  assert.equal(o.statuses.get('count')?.get('a'), 'failed');
});

const noVault = { vaultPassphrase: (): string => { throw new Error('no vault value here'); } };

async function healthVars(yaml: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-windows-'));
  writeFileSync(path.join(dir, 'hosts.yml'), yaml);
  const inv = await loadInventories([path.join(dir, 'hosts.yml')], noVault);
  return typedVars(healthDefaults, resolveHostVars(inv, 'h1', new Map(), new Map()), 'health', 'h1');
}

test('health_windows in the inventory: seconds per service; a bad value names its file and line', async () => {
  assert.deepEqual((await healthVars('all:\n  hosts:\n    h1: {}\n')).health_windows, {});
  assert.deepEqual((await healthVars('all:\n  vars:\n    health_windows: { ai_sglang: 300 }\n  hosts:\n    h1: {}\n')).health_windows, { ai_sglang: 300 });
  await assert.rejects(
    healthVars('all:\n  vars:\n    health_windows:\n      ai_sglang: 2m\n  hosts:\n    h1: {}\n'),
    (err: unknown) => err instanceof InputError && /hosts\.yml:4:\d+: variable health_windows\.ai_sglang of health for host h1/.test(err.message),
  );
});
