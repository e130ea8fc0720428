// The stand-ins whose real programs read a Swarm secret at start (scripts/lab/standins.ts `files`) refuse to
// start when the file the stack names cannot be read, and start with it: cloudflared's TUNNEL_TOKEN_FILE
// (its --token-file), Grafana's GF_SECURITY_ADMIN_PASSWORD__FILE, LangGraph's DATABASE_PASSWORD_FILE.
// Grafana also listens where GF_SERVER_HTTP_PORT says, as Grafana does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';
import { freePort, onFreePort, refusal, stackEnvironment, startStandIn } from '../helpers/standin.ts';

for (const [image, stack, service, variable] of [
  ['cloudflare/cloudflared:2025.4.0', 'gateway', 'cloudflared', 'TUNNEL_TOKEN_FILE'],
  ['grafana/grafana:11.3.1', 'monitoring', 'grafana', 'GF_SECURITY_ADMIN_PASSWORD__FILE'],
  ['cicd.vibe.local:5000/vibe/langgraph-agent:1.4.0', 'ai', 'langgraph', 'DATABASE_PASSWORD_FILE'],
] as const) {
  test(`${service} stand-in: refuses to start when the stack's ${variable} names no readable file, and starts with it`, async (t) => {
    const env = stackEnvironment(stack, service);
    assert.ok(env[variable], `the stack sets ${variable}`);
    const dir = scratchDir();
    const spec = STANDINS[image]!;
    const listening = spec.http ? (await onFreePort({ ...spec, writes: [path.join(dir, 'data')] })).spec : { ...spec, writes: [path.join(dir, 'data')] };
    const r = await refusal(startStandIn(listening, [], { ...env, [variable]: path.join(dir, 'missing') }));
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`${variable} names no readable file`), r.stderr);
    const secret = path.join(dir, 'secret');
    writeFileSync(secret, 'value\n');
    const s = startStandIn(listening, [], { ...env, [variable]: secret });
    t.after(s.stop);
    await s.printed(/listening on/);
  });
}

test('grafana stand-in: listens on GF_SERVER_HTTP_PORT when it is set, as Grafana does', async (t) => {
  const dir = scratchDir();
  const secret = path.join(dir, 'secret');
  writeFileSync(secret, 'value\n');
  const { spec, port } = await onFreePort({ ...STANDINS['grafana/grafana:11.3.1']!, writes: [path.join(dir, 'data')] });
  const moved = await freePort();
  const s = startStandIn(spec, [], { GF_SECURITY_ADMIN_PASSWORD__FILE: secret, GF_SERVER_HTTP_PORT: String(moved) });
  t.after(s.stop);
  await s.printed(/listening on/);
  assert.equal((await fetch(`http://127.0.0.1:${moved}/api/health`)).status, 200);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/api/health`));
});
