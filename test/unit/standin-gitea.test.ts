// The Gitea stand-in (scripts/lab/standin.py's gitea_urls, spec in scripts/lab/standins.ts) computes its
// clone URLs as Gitea 1.22 does, from GITEA__server__ROOT_URL / DOMAIN / SSH_DOMAIN / SSH_PORT (unset:
// http://localhost:3000/), and uses PostgreSQL only when GITEA__database__DB_TYPE says so, as the image does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';
import { freePort, onFreePort, refusal, stackEnvironment, startStandIn } from '../helpers/standin.ts';

const SPEC = STANDINS['gitea/gitea:1.22.4']!;

type Repo = { clone_url: string; ssh_url: string; html_url: string };

async function gitea(t: { after: (fn: () => void) => void }, env: Record<string, string>) {
  const dir = scratchDir();
  const secret = path.join(dir, 'gitea_db_password');
  writeFileSync(secret, 'pw\n');
  const key = path.join(dir, 'gitea_secret_key');
  writeFileSync(key, 'k'.repeat(64));
  const { spec, port } = await onFreePort({ ...SPEC, writes: [path.join(dir, 'data')] });
  // Installed by its environment, as stacks/data.yml installs it (a test that drops INSTALL_LOCK says so).
  const s = startStandIn(spec, [], { GITEA__security__INSTALL_LOCK: 'true', ...env, GITEA__database__PASSWD__FILE: secret, GITEA__security__SECRET_KEY__FILE: key });
  t.after(s.stop);
  await s.printed(/listening on/);
  return { get: (p: string) => fetch(`http://127.0.0.1:${port}${p}`), s };
}

const repoOf = async (r: Response) => {
  assert.equal(r.status, 200);
  return (await r.json()) as Repo;
};

test("gitea stand-in: without ROOT_URL the clone URLs name localhost, as Gitea's defaults do", async (t) => {
  const g = await gitea(t, {});
  const repo = await repoOf(await g.get('/api/v1/repos/vibe/app'));
  assert.equal(repo.clone_url, 'http://localhost:3000/vibe/app.git');
  assert.equal(repo.html_url, 'http://localhost:3000/vibe/app');
  assert.equal(repo.ssh_url, 'git@localhost:vibe/app.git');
});

test('gitea stand-in: ROOT_URL without its slash gets one; DOMAIN alone gives ROOT_URL and SSH host; a port off 22 takes the ssh:// form', async (t) => {
  const g = await gitea(t, { GITEA__server__DOMAIN: 'git.example', GITEA__server__SSH_PORT: '2222' });
  const repo = await repoOf(await g.get('/api/v1/repos/vibe/app'));
  assert.equal(repo.clone_url, 'http://git.example:3000/vibe/app.git');
  assert.equal(repo.ssh_url, 'ssh://git@git.example:2222/vibe/app.git');
  const h = await gitea(t, { GITEA__server__ROOT_URL: 'https://git.example', GITEA__server__SSH_DOMAIN: 'ssh.example' });
  const other = await repoOf(await h.get('/api/v1/repos/vibe/app'));
  assert.equal(other.clone_url, 'https://git.example/vibe/app.git');
  assert.equal(other.ssh_url, 'git@ssh.example:vibe/app.git');
});

test("gitea stand-in: stacks/data.yml's environment with homelab.yml's values gives the inventory's clone URLs", async (t) => {
  const env = stackEnvironment('data', 'gitea');
  const vars = (parseDocument(readFileSync('inventory/homelab.yml', 'utf8')).getIn(['all', 'vars']) as { toJSON(): Record<string, string> }).toJSON();
  // Its database is PostgreSQL (DB_TYPE postgres): unreachable here, so the stand-in answers 503 as Gitea, which
  // cannot start without it, would not answer at all. Its URLs are read with DB_TYPE dropped (then SQLite).
  const withDb = await gitea(t, { ...env, GITEA__database__HOST: '127.0.0.1:9' });
  assert.equal((await withDb.get('/api/v1/version')).status, 503);
  const { GITEA__database__DB_TYPE: dbType, ...rest } = env;
  assert.equal(dbType, 'postgres');
  const g = await gitea(t, rest);
  assert.match(g.s.output(), /GITEA__database__DB_TYPE names no PostgreSQL: using SQLite/);
  const repo = await repoOf(await g.get('/api/v1/repos/vibe/app'));
  assert.ok(repo.clone_url.startsWith(vars.gitea_root_url!), `${repo.clone_url} starts with ${vars.gitea_root_url}`);
  assert.equal(repo.ssh_url, `ssh://git@${vars.gitea_ssh_domain}:${env.GITEA__server__SSH_PORT}/vibe/app.git`);
});

test('gitea stand-in: refuses to start without its database password file (environment-to-ini reads __FILE)', async () => {
  const { spec } = await onFreePort({ ...SPEC, writes: [path.join(scratchDir(), 'data')] });
  const r = await refusal(startStandIn(spec, [], { GITEA__database__PASSWD__FILE: path.join(scratchDir(), 'missing') }));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /GITEA__database__PASSWD__FILE names no readable file/);
});

test('gitea stand-in: listens on GITEA__server__HTTP_PORT when it is set, and its default ROOT_URL names that port', async (t) => {
  const dir = scratchDir();
  const secret = path.join(dir, 'gitea_db_password');
  writeFileSync(secret, 'pw\n');
  const { spec, port } = await onFreePort({ ...SPEC, writes: [path.join(dir, 'data')] });
  const key = path.join(dir, 'gitea_secret_key');
  writeFileSync(key, 'k'.repeat(64));
  const moved = await freePort();
  const s = startStandIn(spec, [], { GITEA__database__PASSWD__FILE: secret, GITEA__security__SECRET_KEY__FILE: key, GITEA__security__INSTALL_LOCK: 'true', GITEA__server__HTTP_PORT: String(moved) });
  t.after(s.stop);
  await s.printed(/listening on/);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/api/v1/version`), 'nothing on 3000');
  assert.equal((await repoOf(await fetch(`http://127.0.0.1:${moved}/api/v1/repos/vibe/app`))).clone_url, `http://localhost:${moved}/vibe/app.git`);
});

test("gitea stand-in: without INSTALL_LOCK a fresh Gitea serves only its web installer: the API and the health check 404; stacks/data.yml locks it", async (t) => {
  const fresh = await gitea(t, { GITEA__security__INSTALL_LOCK: '' });
  const page = await fresh.get('/');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Installation - Gitea/);
  assert.equal((await fresh.get('/api/v1/version')).status, 404);
  assert.equal((await fresh.get('/api/v1/repos/vibe/app')).status, 404);
  const env = stackEnvironment('data', 'gitea');
  assert.equal(env.GITEA__security__INSTALL_LOCK, 'true');
  assert.equal(env.GITEA__security__SECRET_KEY__FILE, '/run/secrets/gitea_secret_key');
  const { GITEA__database__DB_TYPE: _db, ...sqlite } = env;
  const installed = await gitea(t, { ...sqlite, GITEA__security__INSTALL_LOCK: env.GITEA__security__INSTALL_LOCK });
  assert.equal((await installed.get('/api/v1/version')).status, 200);
});
