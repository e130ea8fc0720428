// The SGLang stand-in (scripts/lab/standin.py with its spec in
// scripts/lab/standins.ts) is as strict as SGLang v0.3.6: the real standin.py
// run here with python3, on a free loopback port, loading for 1 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';
import { onFreePort, startStandIn, type RunningStandIn } from '../helpers/standin.ts';

const SPEC = STANDINS['lmsysorg/sglang:v0.3.6-cu124']!;
const GPU = { 'DOCKER_RESOURCE_NVIDIA-GPU': 'GPU-00000000-standin-test' };

interface Running extends RunningStandIn {
  port: number;
}

/** The real standin.py with SGLang's spec on a free loopback port (test/helpers/standin.ts starts it). */
async function start(args: string[], env: Record<string, string>): Promise<Running> {
  const { spec, port } = await onFreePort(SPEC);
  return { ...startStandIn(spec, args, env), port };
}

const modelDir = () => {
  const dir = path.join(scratchDir(), 'glm-4-9b-chat');
  mkdirSync(dir);
  return dir;
};

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), resolve(false)));
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

const statusOf = async (port: number, p: string) => (await fetch(`http://127.0.0.1:${port}${p}`)).status;

test('the SGLang stand-in refuses to start without its model directory, with the error SGLang gives', async () => {
  const missing = path.join(scratchDir(), 'no-such-model');
  const r = await (await start(['--model-path', missing, '--port', '8000'], { ...GPU, SGLANG_STANDIN_LOAD_SECONDS: '1' })).exit;
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`huggingface_hub.errors.HFValidationError: Repo id must be in the form 'repo_name' or 'namespace/repo_name': '${missing}'`), r.stderr);
});

test('the SGLang stand-in refuses to start without a GPU assigned by Swarm (DOCKER_RESOURCE_NVIDIA-GPU)', async () => {
  const r = await (await start(['--model-path', modelDir()], { SGLANG_STANDIN_LOAD_SECONDS: '1' })).exit;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /RuntimeError: No CUDA GPUs are available/);
});

test('the SGLang stand-in listens only after its load time; then /health is 200 and /metrics is 404 without --enable-metrics', async (t) => {
  const s = await start(['--model-path', modelDir()], { ...GPU, SGLANG_STANDIN_LOAD_SECONDS: '1.5' });
  t.after(s.stop);
  await s.printed(/loading for 1\.5 s \(SGLANG_STANDIN_LOAD_SECONDS\)/);
  assert.ok(await refused(s.port), 'nothing listens while the model loads');
  await s.printed(/listening on/);
  assert.equal(await statusOf(s.port, '/health'), 200);
  assert.equal(await statusOf(s.port, '/metrics'), 404);
  assert.equal(await statusOf(s.port, '/v1/models'), 200);
});

/** The arguments stacks/ai.yml gives `python3 -m sglang.launch_server`, the model path made a directory here. */
function aiYmlArgs(model: string): string[] {
  const { compose } = parseCompose(interpolate(readFileSync('stacks/ai.yml', 'utf8'), { SGLANG_MODEL: 'glm-4-9b-chat', REGISTRY: 'r', LANGGRAPH_TAG: 't', ENDPOINT_MODE: 'vip', PUBLISH_MODE: 'ingress' }).text);
  const command = compose!.services.sglang!.command as string;
  const args = command.split(/\s+/);
  assert.deepEqual(args.slice(0, 3), ['python3', '-m', 'sglang.launch_server']);
  return args.slice(3).map((a) => (a === '/models/glm-4-9b-chat' ? model : a));
}

test('the SGLang stand-in serves /metrics when started as stacks/ai.yml starts SGLang (--enable-metrics)', async (t) => {
  const s = await start(aiYmlArgs(modelDir()), { ...GPU, SGLANG_STANDIN_LOAD_SECONDS: '1' });
  t.after(s.stop);
  await s.printed(/listening on/);
  const r = await fetch(`http://127.0.0.1:${s.port}/metrics`);
  assert.equal(r.status, 200);
  assert.match(await r.text(), /^sglang:num_running_reqs/m);
});
