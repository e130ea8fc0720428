// The n8n stand-in (scripts/lab/standin.py's n8n_urls, spec in scripts/lab/standins.ts) shows its webhook
// base at /rest/settings (urlBaseWebhook) as n8n 1.70 computes it: WEBHOOK_URL, else
// N8N_PROTOCOL://N8N_HOST:N8N_PORT/ (unset: http://localhost:5678/); PostgreSQL only with DB_TYPE=postgresdb.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';
import { freePort, onFreePort, stackEnvironment, startStandIn } from '../helpers/standin.ts';

const SPEC = STANDINS['n8nio/n8n:1.70.3']!;

async function n8n(t: { after: (fn: () => void) => void }, env: Record<string, string>) {
  const dir = scratchDir();
  const secret = path.join(dir, 'n8n_db_password');
  writeFileSync(secret, 'pw\n');
  const { spec, port } = await onFreePort({ ...SPEC, writes: [path.join(dir, 'n8n')] });
  const s = startStandIn(spec, [], { ...env, DB_POSTGRESDB_PASSWORD_FILE: secret });
  t.after(s.stop);
  await s.printed(/listening on/);
  const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`);
  const settings = async () => {
    const r = await get('/rest/settings');
    assert.equal(r.status, 200);
    return ((await r.json()) as { data: { urlBaseWebhook: string; urlBaseEditor: string } }).data;
  };
  return { get, settings };
}

test('n8n stand-in: without WEBHOOK_URL or N8N_* its webhooks name http://localhost:5678/, as n8n does', async (t) => {
  const s = await (await n8n(t, {})).settings();
  assert.equal(s.urlBaseWebhook, 'http://localhost:5678/');
  assert.equal(s.urlBaseEditor, 'http://localhost:5678/');
});

test('n8n stand-in: N8N_PROTOCOL://N8N_HOST:N8N_PORT/; WEBHOOK_URL wins and gets its slash', async (t) => {
  assert.equal((await (await n8n(t, { N8N_PROTOCOL: 'https', N8N_HOST: 'n8n.example' })).settings()).urlBaseWebhook, 'https://n8n.example:5678/');
  const s = await (await n8n(t, { N8N_HOST: 'n8n.example', WEBHOOK_URL: 'https://hooks.example' })).settings();
  assert.equal(s.urlBaseWebhook, 'https://hooks.example/');
  assert.equal(s.urlBaseEditor, 'http://n8n.example:5678/', 'the editor keeps its own base');
});

test("n8n stand-in: stacks/gateway.yml's environment with homelab.yml's values gives the inventory's webhook URL; its PostgreSQL is required", async (t) => {
  const env = stackEnvironment('gateway', 'n8n');
  const vars = (parseDocument(readFileSync('inventory/homelab.yml', 'utf8')).getIn(['all', 'vars']) as { toJSON(): Record<string, string> }).toJSON();
  // DB_TYPE postgresdb: with its database unreachable here it does not answer 200.
  assert.equal(env.DB_TYPE, 'postgresdb');
  const withDb = await n8n(t, { ...env, DB_POSTGRESDB_HOST: '127.0.0.1:9' });
  assert.equal((await withDb.get('/rest/settings')).status, 503);
  const { DB_TYPE: _, ...rest } = env;
  const s = await (await n8n(t, rest)).settings();
  assert.equal(s.urlBaseWebhook, vars.n8n_webhook_url);
  // The editor's links and OAuth redirects name the proxy's URL too, not N8N_HOST:5678.
  assert.equal(s.urlBaseEditor, vars.n8n_webhook_url);
});

test('n8n stand-in: listens on N8N_PORT when it is set, as n8n does, and no longer on 5678', async (t) => {
  const dir = scratchDir();
  const secret = path.join(dir, 'n8n_db_password');
  writeFileSync(secret, 'pw\n');
  const { spec, port } = await onFreePort({ ...SPEC, writes: [path.join(dir, 'n8n')] });
  const moved = await freePort();
  const s = startStandIn(spec, [], { N8N_PORT: String(moved), DB_POSTGRESDB_PASSWORD_FILE: secret });
  t.after(s.stop);
  await s.printed(/listening on/);
  assert.equal((await fetch(`http://127.0.0.1:${moved}/healthz`)).status, 200);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'nothing on the default port');
  // The webhook base names the port it listens on.
  assert.equal(((await (await fetch(`http://127.0.0.1:${moved}/rest/settings`)).json()) as { data: { urlBaseWebhook: string } }).data.urlBaseWebhook, `http://localhost:${moved}/`);
});
