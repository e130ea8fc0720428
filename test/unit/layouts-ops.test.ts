// The layouts' ops and the blue-green strategy as data: probe output in,
// decision out (pyinfra's operation tests). Their lab behaviour is in
// test/lab/core-edge.test.ts and test/lab/single-server.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ops, Secret, strategies } from '../../lib/index.ts';
import type { Op } from '../../lib/core/op.ts';
import { maskEnvDiff, renderEnv } from '../../lib/ops/compose/env-file.ts';
import { parseComposeState, staleServices } from '../../lib/ops/compose/state.ts';
import { renderCaddyfile } from '../../lib/ops/caddy/site.ts';
import { serviceOf } from '../../lib/ops/podman/quadlet.ts';
import { healthGateSchema, judge } from '../../lib/strategies/blue-green.ts';
import { parseEnvFile } from '../../roles/compose-projects/env-file.ts';
import { missingFiles } from '../../roles/compose-projects/index.ts';
import { renderTemplate } from '../../roles/single-server/template.ts';

const decide = (op: Op<unknown, any>, state: unknown) => {
  assert.deepEqual(op.problems, []);
  return op.decide(state);
};
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const summary = (d: ReturnType<typeof decide>) => (d.kind === 'change' && d.diff?.kind === 'summary' ? d.diff.lines.join('\n') : '');

test('compose env files: literal quoting, secrets masked in diffs (no digest: issue 27 item 8), never shown', () => {
  assert.equal(renderEnv({ B: 'x y', A: 'plain', C: "it's" }).text, `A=plain\nB='x y'\nC="it's"\n`);
  const pw = new Secret('s3cret-value');
  const values = { USER: 'vibe', PASSWORD: pw };
  const { text, secret } = renderEnv(values);
  assert.equal(secret, true);
  const same = maskEnvDiff(text, text, values);
  assert.ok(!same.after.includes('s3cret-value'));
  assert.equal(same.before, same.after, 'an unchanged secret reads the same on both sides');
  const changed = maskEnvDiff('PASSWORD=other\nUSER=vibe\n', text, values);
  assert.notEqual(changed.before, changed.after, 'a changed secret shows as changed');
  assert.deepEqual(maskEnvDiff('PASSWORD=third\nUSER=vibe\n', text, values), changed, 'and nothing of either value is in what is shown');
});

const psLine = (svc: string, id: string, hash: string, health = '') => JSON.stringify({ Service: svc, ID: id, State: 'running', Health: health, Labels: `com.docker.compose.project=p,com.docker.compose.config-hash=${hash}` });

test('compose.project: ok when files and containers match; only the files that differ, or the stale services, change', () => {
  const compose = 'services:\n  a:\n    image: x:${TAG}\n  b:\n    image: y\n';
  const env = renderEnv({ TAG: '1' }).text;
  const probe = (envText: string, hashB: string) =>
    parseComposeState(
      `@@file compose.yml\n${sha(compose)}\n@@text\n${Buffer.from(compose).toString('base64')}\n@@file .env\n${sha(envText)}\n@@text\n${Buffer.from(envText).toString('base64')}\n@@hash\na h1\nb h2\n@@ps\n${psLine('a', 'c1', 'h1', 'healthy')}\n${psLine('b', 'c2', hashB)}\n`,
    );
  const op = ops.compose.project({ dir: '/opt/p', project: 'p', files: { 'compose.yml': compose }, env: { TAG: '1' } });
  assert.equal(decide(op, probe(env, 'h2')).kind, 'ok');

  const stale = probe(env, 'old');
  assert.deepEqual(staleServices(stale), ['b']);
  const up = decide(op, stale);
  assert.equal(up.kind, 'change');
  assert.match(up.kind === 'change' ? up.msg : '', /^up -d: b$/);

  const changed = decide(op, probe(renderEnv({ TAG: '0' }).text, 'h2'));
  assert.equal(changed.kind, 'change');
  assert.match(changed.kind === 'change' ? changed.msg : '', /^\.env changed; pull and up -d$/);
  assert.match(summary(changed), /--- \/opt\/p\/\.env\n\+\+\+ \/opt\/p\/\.env\n-TAG=0\n\+TAG=1\nservices concerned: a \(changed: TAG\)$/);

  const fresh = decide(op, parseComposeState('@@nodir\n'));
  assert.match(fresh.kind === 'change' ? fresh.msg : '', /compose\.yml, \.env written/);
  assert.match(ops.compose.project({ dir: 'rel', project: 'P', files: {} }).problems.map((p) => p.message).join('; '), /absolute path.*lowercase|lowercase.*absolute path|compose\.yml/);
  assert.match(ops.compose.project({ dir: '/x', project: 'p', files: { 'compose.yml': '' }, envFiles: { '../escape': {} } }).problems[0]!.message, /inside the project directory/);
});

test('podman.quadlet: services named as Quadlet names them; write, daemon-reload and restart only on change', () => {
  assert.equal(serviceOf('postgres.container'), 'postgres.service');
  assert.equal(serviceOf('app.network'), 'app-network.service');
  assert.equal(serviceOf('data.volume'), 'data-volume.service');
  const content = '[Container]\nImage=x\n';
  const op = ops.podman.quadlet({ name: 'web.container', content });
  const file = (text: string) => ({ exists: true, type: 'file', mode: '0644', sha256: sha(text), content: Buffer.from(text) });
  assert.equal(decide(op, { file: file(content), active: 'active' }).kind, 'ok');
  const start = decide(op, { file: file(content), active: 'failed' });
  assert.deepEqual(start.kind === 'change' ? start.commands!.map((c) => c.display()) : [], ['systemctl start web.service']);
  const update = decide(op, { file: file('[Container]\nImage=old\n'), active: 'active' });
  const cmds = update.kind === 'change' ? update.commands!.map((c) => c.display()) : [];
  assert.match(cmds.join('\n'), /quadlet --dryrun/, 'validated by the generator before it replaces the file');
  assert.deepEqual(cmds.slice(-2), ['systemctl daemon-reload', 'systemctl restart web.service']);
  assert.match(ops.podman.quadlet({ name: 'web.service', content }).problems[0]!.message, /Quadlet unit name/);
});

test('caddy.site: the Caddyfile from typed values; validated, applied with caddy reload, never a restart', () => {
  const sites = [{ address: 'app.example.com', upstreams: ['127.0.0.1:3005'], headers: { 'X-Frame-Options': 'DENY' }, healthPath: '/caddy/health' }];
  const text = renderCaddyfile({ sites: sites.map((s) => ({ ...s, tls: undefined })), email: 'ops@example.com' } as never);
  assert.match(text, /^\{\n\temail ops@example\.com\n\}\n\napp\.example\.com \{\n\theader \{\n\t\tX-Frame-Options "DENY"\n\t\}\n\trespond \/caddy\/health 200\n\treverse_proxy 127\.0\.0\.1:3005\n\}\n$/m);
  const op = ops.caddy.site({ sites });
  const rendered = renderCaddyfile({ sites: [{ ...sites[0]!, tls: undefined }] } as never);
  const live = (t: string) => ({ file: { exists: true, type: 'file', mode: '0644', sha256: sha(t), content: Buffer.from(t) }, active: 'active' });
  assert.equal(decide(op, live(rendered)).kind, 'ok');
  const change = decide(op, live('old'));
  const cmds = change.kind === 'change' ? change.commands!.map((c) => c.display()).join('\n') : '';
  assert.match(cmds, /caddy validate --adapter caddyfile --config/);
  assert.match(cmds, /caddy reload --adapter caddyfile --config \/etc\/caddy\/Caddyfile$/);
  assert.doesNotMatch(cmds, /restart/);
  assert.match(ops.caddy.site({ sites: [{ address: 'a b', upstreams: ['x'] }] }).problems[0]!.message, /one Caddyfile token/);
});

test('blue-green: the gate judges status, latency and body; the same version is ok; the plan targets the idle slot', () => {
  const g = healthGateSchema.parse({ url: 'http://127.0.0.1:{port}/api/health', maxLatencyMs: 500, bodyContains: '"db":"ok"' });
  assert.deepEqual(judge('200 0.012\n{"db":"ok"}', g), { ok: true, status: 200, ms: 12 });
  assert.match(judge('503 0.010\n{}', g).why!, /status 503, expected 200/);
  assert.match(judge('200 0.900\n{"db":"ok"}', g).why!, /answered in 900 ms, over the 500 ms bound/);
  assert.match(judge('200 0.010\n{"db":"down"}', g).why!, /body lacks/);
  assert.match(judge('000 2.001\n', g).why!, /status none \(no answer\)/);

  const release = (version: string) =>
    strategies.blueGreen({
      name: 'app',
      version,
      slots: { blue: { port: 3005 }, green: { port: 3006 } },
      start: (slot, port) => ops.command({ argv: ['start', slot, String(port)] }),
      stop: (slot) => ['systemctl', 'stop', `app-${slot}.service`],
      health: { url: 'http://127.0.0.1:{port}/api/health' },
      switch: (slot) => ops.command({ argv: ['switch', slot] }),
      keepOldFor: 3600,
    });
  assert.equal(decide(release('v2'), { live: 'green', version: 'v2' }).kind, 'ok');
  const plan = decide(release('v3'), { live: 'green', version: 'v2' });
  assert.equal(plan.kind, 'change');
  assert.match(summary(plan), /1\. start blue \(v3\) on 3005\n2\. wait 10 s, then GET http:\/\/127\.0\.0\.1:3005\/api\/health: 200 within 500 ms \(4 tries\)\n3\. switch the proxy to blue \(:3005\)\n4\. stop green in 3600 s/);
  assert.match(summary(decide(release('v1'), {})), /1\. start blue \(v1\) on 3005[\s\S]*no previous slot to stop/);
});

test("the layouts' repository files: env files parsed as Compose reads them, errors naming file:line; unit templates refuse an unset name", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-layout-'));
  const env = path.join(dir, '.env.core');
  writeFileSync(env, "# comment\nexport A=1\nB='two words'\nC=\"x\\ty\"\n\n");
  assert.deepEqual(parseEnvFile(env), { A: '1', B: 'two words', C: 'x\ty' });
  writeFileSync(env, 'A=1\nnot an assignment\n');
  assert.throws(() => parseEnvFile(env), (e: Error) => e.message.includes(`${env}:2`) && /expected KEY=VALUE/.test(e.message));
  const spec = { name: 'core', dir: '/opt/core', source: dir, env: {}, env_files: { 'env/.env.core': env, 'env/.env.more': path.join(dir, 'absent') }, env_secrets: {}, files: {}, wait_seconds: 1 };
  assert.deepEqual(missingFiles([spec]), [path.join(dir, 'compose.yml'), path.join(dir, 'absent')]);
  const unit = path.join(dir, 'x.container');
  writeFileSync(unit, '[Container]\nImage=${IMAGE}\nPublishPort=${PORT}:${PORT}\n');
  assert.equal(renderTemplate(unit, { IMAGE: 'r/x:1', PORT: 3005 }), '[Container]\nImage=r/x:1\nPublishPort=3005:3005\n');
  assert.throws(() => renderTemplate(unit, { IMAGE: 'r/x:1' }), (e: Error) => e.message.includes(`${unit}:3`) && e.message.includes('${PORT} has no value'));
});
