// The registry stand-in (scripts/lab/standin.py's registry_manifests, spec in scripts/lab/standins.ts) is as
// strict as registry:2.8.3: a manifest delete is refused with distribution's 405 UNSUPPORTED unless
// REGISTRY_STORAGE_DELETE_ENABLED=true, which stacks/cicd.yml sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';
import { onFreePort, stackEnvironment, startStandIn } from '../helpers/standin.ts';

const SPEC = STANDINS['registry:2.8.3']!;
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: {}, layers: [] });
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;

async function registry(t: { after: (fn: () => void) => void }, env: Record<string, string>) {
  const root = scratchDir();
  const { spec, port } = await onFreePort({ ...SPEC, registry: { ...SPEC.registry!, root }, writes: [root] });
  const s = startStandIn(spec, [], env);
  t.after(s.stop);
  await s.printed(/listening on/);
  const url = (p: string) => `http://127.0.0.1:${port}/v2/vibe/langgraph-agent/manifests/${p}`;
  const put = await fetch(url('1.4.0'), { method: 'PUT', body: MANIFEST, headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' } });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('docker-content-digest'), DIGEST);
  return { url, base: `http://127.0.0.1:${port}` };
}

test('registry stand-in: deleting a manifest without REGISTRY_STORAGE_DELETE_ENABLED is 405 UNSUPPORTED, and the manifest stays', async (t) => {
  const { url, base } = await registry(t, {});
  assert.equal((await fetch(`${base}/v2/`)).status, 200);
  const del = await fetch(url(DIGEST), { method: 'DELETE' });
  assert.equal(del.status, 405);
  const body = (await del.json()) as { errors: { code: string; message: string }[] };
  assert.equal(body.errors[0]!.code, 'UNSUPPORTED');
  assert.equal(body.errors[0]!.message, 'The operation is unsupported.');
  assert.equal((await fetch(url(DIGEST))).status, 200, 'still there');
  assert.equal((await fetch(url('1.4.0'))).status, 200, 'its tag too');
});

test("registry stand-in: with stacks/cicd.yml's environment a delete by digest is 202 and the manifest is gone; a tag or an unknown digest is refused", async (t) => {
  const env = stackEnvironment('cicd', 'registry');
  assert.equal(env.REGISTRY_STORAGE_DELETE_ENABLED, 'true', 'stacks/cicd.yml lets the registry delete');
  const { url } = await registry(t, env);
  // distribution's API spec: "For deletes, reference *must* be a digest or the delete will fail".
  assert.equal((await fetch(url('1.4.0'), { method: 'DELETE' })).status, 400);
  assert.equal((await fetch(url(DIGEST), { method: 'DELETE' })).status, 202);
  const gone = await fetch(url(DIGEST));
  assert.equal(gone.status, 404);
  assert.equal(((await gone.json()) as { errors: { code: string }[] }).errors[0]!.code, 'MANIFEST_UNKNOWN');
  assert.equal((await fetch(url('1.4.0'))).status, 404, 'the tag that named it is gone with it');
  assert.equal((await fetch(url(DIGEST), { method: 'DELETE' })).status, 404, 'a second delete finds nothing');
});

test('registry stand-in: REGISTRY_STORAGE_DELETE_ENABLED other than true keeps deletes refused', async (t) => {
  const { url } = await registry(t, { REGISTRY_STORAGE_DELETE_ENABLED: 'false' });
  assert.equal((await fetch(url(DIGEST), { method: 'DELETE' })).status, 405);
});
