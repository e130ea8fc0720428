// An operator's scale, kept (issue 29, item 13): the operators' fallback
// (000, 5.4: SGLang to 0, Ollama to 1 when the GPU is busy) is recorded on
// each service as rigger.scale.* labels; the stack op keeps it, the daily
// check and the health reading report it as intended, --clear undoes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ops } from '../../lib/index.ts';
import { InputError } from '../../lib/shell/errors.ts';
import { parseCompose, type Compose } from '../../lib/ops/docker/compose.ts';
import { describeOverride, overrideFromLabels, overrideLabels, parseOverrideLines, withOverrides, type ScaleOverride } from '../../lib/ops/docker/scale-override.ts';
import { parseScaleState, planScale } from '../../lib/ops/docker/scale.ts';
import { parseStackState } from '../../lib/ops/docker/stack.ts';
import { parseHealth } from '../../lib/ops/docker/health.ts';
import { scaleOverrides, serviceFindings } from '../../lib/daily/findings.ts';
import { checkServices, parseScaleArgs } from '../../playbooks/scale-args.ts';
import { stackServices } from '../../roles/stacks/services.ts';
import { HOMELAB_VAULT_PASSWORD } from '../../scripts/lab/rehearsal.ts';
import { runCli } from '../helpers/cli.ts';

const GPU_BUSY: ScaleOverride = { replicas: 0, reason: 'GPU busy', by: 'kim', since: '2026-12-07T09:00:00Z' };
const AI_ENV = { SGLANG_MODEL: 'm', REGISTRY: 'r', LANGGRAPH_TAG: 't', ENDPOINT_MODE: 'vip', PUBLISH_MODE: 'ingress' };
const HOMELAB_STACKS = { stacks: [{ name: 'ai', file: 'stacks/ai.yml', env: { SGLANG_MODEL: 'm', REGISTRY: 'r', LANGGRAPH_TAG: 't' } }], stack_images: {}, service_endpoint_mode: 'vip' as const, service_publish_mode: 'ingress' as const };

const rejects = (f: () => unknown, pattern: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof InputError && pattern.test(e.message), `expected an input error matching ${pattern}`);

test('scale.ts arguments: SERVICE=N with --reason, --clear [SERVICE...], nothing lists; each mistake names its argument', () => {
  assert.deepEqual(parseScaleArgs(['ai_sglang=0', 'ai_ollama=1'], { reason: 'GPU busy' }), {
    kind: 'set',
    targets: [
      { service: 'ai_sglang', replicas: 0 },
      { service: 'ai_ollama', replicas: 1 },
    ],
    reason: 'GPU busy',
  });
  assert.deepEqual(parseScaleArgs([], { clear: true }), { kind: 'clear', services: [] });
  assert.deepEqual(parseScaleArgs(['ai_sglang'], { clear: true }), { kind: 'clear', services: ['ai_sglang'] });
  assert.deepEqual(parseScaleArgs([], {}), { kind: 'list' });
  rejects(() => parseScaleArgs(['ai_sglang=0'], {}), /--reason TEXT is required/);
  rejects(() => parseScaleArgs(['ai_sglang=0'], { reason: '  ' }), /--reason TEXT is required/);
  rejects(() => parseScaleArgs(['ai_sglang=-1'], { reason: 'x' }), /ai_sglang=-1: N must be a whole number/);
  rejects(() => parseScaleArgs(['ai_sglang=1.5'], { reason: 'x' }), /ai_sglang=1\.5/);
  rejects(() => parseScaleArgs(['ai_sglang'], { reason: 'x' }), /ai_sglang: write SERVICE=N/);
  rejects(() => parseScaleArgs(['ai_sglang=0', 'ai_sglang=1'], { reason: 'x' }), /ai_sglang is named twice/);
  rejects(() => parseScaleArgs(['ai_sglang=0'], { clear: true }), /ai_sglang=0: --clear takes service names/);
  rejects(() => parseScaleArgs([], { clear: true, reason: 'x' }), /--reason goes with SERVICE=N/);
  rejects(() => parseScaleArgs([], { reason: 'x' }), /--reason needs SERVICE=N/);
  rejects(() => parseScaleArgs(['ai_sglang=0'], { reason: 'a\nb' }), /one line/);
});

test("a SERVICE must be a replicated service of the inventory's stacks, named STACK_SERVICE", () => {
  const known = stackServices(HOMELAB_STACKS);
  assert.deepEqual(
    known.map((k) => [k.name, k.replicas]),
    [
      ['ai_sglang', 1],
      ['ai_ollama', 1],
      ['ai_langgraph', 1],
    ],
  );
  assert.deepEqual(checkServices(['ai_sglang'], known).map((k) => k.name), ['ai_sglang']);
  rejects(() => checkServices(['sglang'], known), /sglang: not a service of the inventory's stacks \(STACK_SERVICE, one of: ai_sglang/);
  rejects(() => checkServices(['node_agent'], [...known, { name: 'node_agent', replicas: 1, global: true }]), /node_agent: a global service/);
});

test('scale.ts with a bad argument exits 4 naming it, before any host is contacted', async () => {
  const r = await runCli(['playbooks/scale.ts', '-i', 'inventory/homelab.yml', 'ai_sglang=0', 'ai_gpu=1', '--reason', 'GPU busy'], { RIGGER_VAULT_PASSWORD: HOMELAB_VAULT_PASSWORD }, 120_000);
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match(r.stderr, /ai_gpu: not a service of the inventory's stacks/);
});

test('the record: four labels on the service, read back as the same override; a label that is not a count is none', () => {
  const labels = overrideLabels(GPU_BUSY);
  assert.deepEqual(labels, { 'rigger.scale.replicas': '0', 'rigger.scale.reason': 'GPU busy', 'rigger.scale.by': 'kim', 'rigger.scale.since': '2026-12-07T09:00:00Z' });
  assert.deepEqual(overrideFromLabels({ ...labels, 'com.docker.stack.namespace': 'ai' }), GPU_BUSY);
  assert.equal(overrideFromLabels({ 'com.docker.stack.namespace': 'ai' }), undefined);
  assert.equal(overrideFromLabels({ ...labels, 'rigger.scale.replicas': 'zero' }), undefined);
  assert.equal(describeOverride(GPU_BUSY), 'scaled to 0 by kim since 2026-12-07T09:00:00Z: GPU busy');
  // What `docker service inspect --format '{{.Spec.Name}} {{json .Spec.Labels}}'` prints, as the daily check and health read it.
  const found = parseOverrideLines([`ai_sglang ${JSON.stringify(labels)}`, 'ai_ollama {"com.docker.stack.namespace":"ai"}', '']);
  assert.deepEqual([...found], [['ai_sglang', GPU_BUSY]]);
});

test('the stack file deployed with an override carries its replicas and labels, as strings Docker accepts', () => {
  const op = ops.docker.stack({ name: 'ai', file: 'stacks/ai.yml', env: AI_ENV });
  const p = op.params as { rendered: string; parsed: Compose };
  const out = withOverrides('ai', p.rendered, p.parsed, new Map([['ai_sglang', GPU_BUSY], ['data_gitea', GPU_BUSY]]));
  const again = parseCompose(out.rendered).compose!;
  assert.equal(again.services.sglang!.deploy!.replicas, 0);
  assert.deepEqual(again.services.sglang!.deploy!.labels, overrideLabels(GPU_BUSY), 'every value a string (a bare timestamp would not be)');
  assert.equal(again.services.ollama!.deploy!.replicas, undefined, 'a service without an override is left as the file has it');
  assert.deepEqual(again.services.sglang!.deploy!.placement, p.parsed.services.sglang!.deploy!.placement, 'the rest of deploy: is kept');
  assert.equal(withOverrides('ai', p.rendered, p.parsed, new Map()).rendered, p.rendered);
});

// Live specs as `docker service inspect --format '{{json .Spec}}'` prints them (the parts the ops read).
const spec = (name: string, replicas: number, labels: Record<string, string> = {}) => ({
  Name: name,
  Labels: { 'com.docker.stack.namespace': 'ai', ...labels },
  TaskTemplate: { ContainerSpec: { Image: `${name}:1` } },
  Mode: { Replicated: { Replicas: replicas } },
});

function stackDecision(live: { sglang: object; ollama: object }, recorded: { sglang: object; ollama: object }, env = AI_ENV) {
  const op = ops.docker.stack({ name: 'ai', file: 'stacks/ai.yml', env });
  // The record is of the last deploy, with the file as it was then.
  const then = (ops.docker.stack({ name: 'ai', file: 'stacks/ai.yml', env: AI_ENV }).params as { parsed: Compose }).parsed;
  const defs = then.services;
  const { services: _s, ...top } = then;
  const lg = spec('ai_langgraph', 1);
  const record = {
    top,
    services: { ai_sglang: { def: defs.sglang, spec: recorded.sglang }, ai_ollama: { def: defs.ollama, spec: recorded.ollama }, ai_langgraph: { def: defs.langgraph, spec: lg } },
  };
  const text = [JSON.stringify(live.sglang), JSON.stringify(live.ollama), JSON.stringify(lg), '@@record', JSON.stringify(record)].join('\n');
  return op.decide(parseStackState(text) as never);
}

test('site.ts keeps a scale: the stack op calls it intended, not drift, and says so in check mode', () => {
  const deployed = { sglang: spec('ai_sglang', 1), ollama: spec('ai_ollama', 1) };
  const scaled = { sglang: spec('ai_sglang', 0, overrideLabels(GPU_BUSY)), ollama: spec('ai_ollama', 1, overrideLabels({ ...GPU_BUSY, replicas: 1 })) };
  const kept = stackDecision(scaled, deployed);
  assert.equal(kept.kind, 'ok', 'no deploy: a deploy would not change it');
  assert.match((kept as { msg?: string }).msg ?? '', /ai_sglang: kept at 0 replicas \(the file says 1\): scaled to 0 by kim since 2026-12-07T09:00:00Z: GPU busy/);

  // The same hand scale without a record is drift, reverted by the next run.
  const hand = stackDecision({ sglang: spec('ai_sglang', 0), ollama: spec('ai_ollama', 1) }, deployed);
  assert.equal(hand.kind, 'change');

  // A change to the file still deploys, and check mode's diff shows the scale it keeps.
  const changed = stackDecision(scaled, deployed, { ...AI_ENV, SGLANG_MODEL: 'other' });
  assert.equal(changed.kind, 'change');
  const lines = (changed as { diff?: { lines: string[] } }).diff!.lines;
  assert.ok(lines.some((l) => /^= ai_sglang: kept at 0 replicas/.test(l)), lines.join('\n'));

  // A hand scale on top of the record is drift from the record: the deploy (which renders the record) puts it back.
  const handOnTop = stackDecision({ ...scaled, sglang: spec('ai_sglang', 1, overrideLabels(GPU_BUSY)) }, deployed);
  assert.equal(handOnTop.kind, 'change');
  assert.ok((handOnTop as { diff?: { lines: string[] } }).diff!.lines.some((l) => /ai_sglang .*back to the recorded scale\): replicas 1 -> 0/.test(l)));

  // After --clear (record taken with the scale, live back at the file's count, no labels): nothing to do.
  const cleared = stackDecision(deployed, scaled);
  assert.equal(cleared.kind, 'ok', JSON.stringify(cleared));
  // After --clear, a hand scale (no labels) is drift from the file again, though the record still holds the old
  // scale (review finding: it went unnoticed).
  const handAfterClear = stackDecision({ sglang: spec('ai_sglang', 3), ollama: spec('ai_ollama', 1) }, scaled);
  assert.equal(handAfterClear.kind, 'change', JSON.stringify(handAfterClear));
  assert.ok((handAfterClear as { diff?: { lines: string[] } }).diff!.lines.some((l) => /ai_sglang \(changed outside rigger, back to the file\): replicas 3 -> 1/.test(l)));
});

const scaleParams = (targets: { service: string; replicas: number; clear?: boolean }[], reason = 'GPU busy') => {
  const op = ops.docker.scale({ targets, reason, by: 'kim', since: '2026-12-07T09:00:00Z' });
  assert.deepEqual(op.problems, []);
  return op.params as Parameters<typeof planScale>[0];
};
const state = (...specs: object[]) => parseScaleState(specs.map((s) => `@@service ${(s as { Name: string }).Name}\n${JSON.stringify(s)}`).join('\n'));

test('the scale op: one spec update sets the replicas and the record; the same scale again is ok; clear restores the file count', () => {
  const set = planScale(scaleParams([{ service: 'ai_sglang', replicas: 0 }]), state(spec('ai_sglang', 1)));
  assert.deepEqual(set.problems, []);
  assert.equal(set.changes.length, 1);
  const args = set.changes[0]!.args;
  assert.deepEqual(args.slice(0, 2), ['--replicas', '0']);
  for (const [k, v] of Object.entries(overrideLabels(GPU_BUSY))) assert.ok(args.includes(`${k}=${v}`), `--label-add ${k}=${v} in ${args.join(' ')}`);

  const again = planScale(scaleParams([{ service: 'ai_sglang', replicas: 0 }]), state(spec('ai_sglang', 0, overrideLabels({ ...GPU_BUSY, by: 'lee' }))));
  assert.equal(again.changes.length, 0, 'already so: the first record (who, since) stays');
  assert.equal(again.result.services[0]!.override!.by, 'lee');

  const clear = planScale(scaleParams([{ service: 'ai_sglang', replicas: 1, clear: true }], ''), state(spec('ai_sglang', 0, overrideLabels(GPU_BUSY))));
  assert.equal(clear.changes.length, 1);
  assert.deepEqual(clear.changes[0]!.args.slice(0, 2), ['--replicas', '1']);
  assert.deepEqual(clear.changes[0]!.args.filter((a, i, all) => all[i - 1] === '--label-rm').sort(), Object.keys(overrideLabels(GPU_BUSY)).sort());

  const nothing = planScale(scaleParams([{ service: 'ai_ollama', replicas: 1, clear: true }], ''), state(spec('ai_ollama', 3)));
  assert.equal(nothing.changes.length, 0, 'no record: clear leaves a service alone');

  assert.match(planScale(scaleParams([{ service: 'ai_gone', replicas: 0 }]), state()).problems.join(), /no service ai_gone in the swarm/);
  const global = { Name: 'mon_agent', Mode: { Global: {} } };
  assert.match(planScale(scaleParams([{ service: 'mon_agent', replicas: 0 }]), state(global)).problems.join(), /mon_agent is a global service/);
  assert.notDeepEqual(ops.docker.scale({ targets: [{ service: 'ai_sglang', replicas: 0 }] }).problems, [], 'a scale without a reason is refused');
});

test('the daily check reports a recorded scale as intended, with its reason, who and since; without the record it fails', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const services = ['ai_sglang replicated 0/0', 'ai_ollama replicated 1/1'];
  const scales = scaleOverrides([`ai_sglang ${JSON.stringify(overrideLabels(GPU_BUSY))}`, `ai_ollama ${JSON.stringify(overrideLabels({ ...GPU_BUSY, replicas: 1 }))}`]);
  const f = serviceFindings(services, [], now, scales);
  const sglang = f.find((x) => x.subject === 'ai_sglang')!;
  assert.equal(sglang.level, 'pass');
  assert.match(sglang.detail, /^intended: scaled to 0 by kim since 2026-12-07T09:00:00Z: GPU busy/);
  assert.equal(f.find((x) => x.subject === 'ai_ollama')!.level, 'pass');
  assert.equal(serviceFindings(services, [], now).find((x) => x.subject === 'ai_sglang')!.level, 'fail', 'scaled to 0 by hand, unrecorded');
  // Someone changed it again by hand: the count no longer matches the record, judged as any service.
  const drifted = serviceFindings(['ai_sglang replicated 0/1'], [], now, scales)[0]!;
  assert.equal(drifted.level, 'fail');
  assert.match(drifted.detail, /scale\.ts recorded 0/);
});

test('the health reading (health role, deploy gate) takes a recorded scale to 0 as healthy: no task to ask over HTTP', () => {
  const checks = [{ service: 'ai_sglang', port: 8000, path: '/health' }];
  const text = (marks: string) => `ai_sglang 0/0\n${marks}@@service ai_sglang\n`;
  const scaled = parseHealth(text(`@@scale ai_sglang ${JSON.stringify(overrideLabels(GPU_BUSY))}\n`), checks);
  assert.ok(Array.isArray(scaled));
  assert.equal(scaled[0]!.healthy, true, JSON.stringify(scaled));
  assert.deepEqual(scaled[0]!.scaled, GPU_BUSY);
  const unrecorded = parseHealth(text(''), checks);
  assert.ok(Array.isArray(unrecorded));
  assert.equal(unrecorded[0]!.healthy, false);
  assert.match(unrecorded[0]!.problem ?? '', /no running task/);
});
