// The single-server layout on a fresh trixie lab host: Quadlet units under
// systemd (surviving a restart of each, a second run changing nothing), then
// blue-green releases through Caddy: a good one switches with no failed
// request and stops the old slot after the (shortened) keep time; one whose
// health fails and one that answers too slowly are rolled back (the live
// slot keeps serving, the new one is stopped, the webhook is told).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { raw, sh } from '../../lib/shell/command.ts';
import { APP_RELEASES } from '../../scripts/lab/layout-images.ts';
import { refOf } from '../../scripts/lab/services.ts';
import { SINGLE_SERVER_INVENTORY } from '../../scripts/lab/layout-inventory.ts';
import { waitFor } from '../helpers/data-node.ts';
import { ensureLab } from '../helpers/lab.ts';
import { changedPerHost, editedInventory, freshLayouts, idleLayouts, playbook } from '../helpers/layouts.ts';
import { onNode } from '../helpers/node.ts';
import { webhookReceiverCommand } from '../helpers/webhook.ts';

const HOST = 'single-vm';
const SITE = 'https://172.30.99.22';
const on = (script: string) => onNode(SINGLE_SERVER_INVENTORY, HOST, sh`${raw(script)}`);
const active = async (unit: string) => (await on(`systemctl is-active ${unit} || true`)).stdout.trim();
/** Whether the unit starts at boot: Quadlet's generator links it into multi-user.target's wants from its [Install]. */
const bootLinked = async (unit: string) => (await on(`test -e /run/systemd/generator/multi-user.target.wants/${unit}.service && echo yes || echo no`)).stdout.trim() === 'yes';

before(() => {
  ensureLab();
  freshLayouts(['single']);
});
// Its services stopped when done: they would slow every later suite.
after(() => idleLayouts(['single']));

test('single-server.ts: Quadlet units under systemd survive a restart of each; a second run changes nothing', async () => {
  const first = await playbook('playbooks/single-server.ts', SINGLE_SERVER_INVENTORY);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  for (const unit of ['app-network', 'postgres', 'redis', 'minio', 'caddy']) assert.equal(await active(unit), 'active', unit);
  // Quadlet generated them from /etc/containers/systemd, with the unit's Restart=always.
  assert.match((await on('systemctl show -p SourcePath -p Restart postgres')).stdout, /Restart=always[\s\S]*SourcePath=\/etc\/containers\/systemd\/postgres\.container|SourcePath=\/etc\/containers\/systemd\/postgres\.container[\s\S]*Restart=always/);
  for (const unit of ['postgres', 'redis', 'minio']) {
    const before = (await on(`podman inspect -f '{{.Id}}' ${unit}`)).stdout.trim();
    await on(`systemctl restart ${unit}`);
    assert.equal(await active(unit), 'active', `${unit} after restart`);
    assert.notEqual((await on(`podman inspect -f '{{.Id}}' ${unit}`)).stdout.trim(), before, `${unit}: a new container`);
  }
  await waitFor('PostgreSQL to accept connections', async () => (await on('podman exec postgres pg_isready -h 127.0.0.1 -U vibe')).code === 0, 60_000);
  assert.equal((await on('stat -c %a /etc/vibearena/postgres.env')).stdout.trim(), '600');
  assert.match((await on(`curl -sk -o /dev/null -w '%{http_code}' ${SITE}/caddy/health`)).stdout, /^200$/);

  const second = await playbook('playbooks/single-server.ts', SINGLE_SERVER_INVENTORY);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.deepEqual(changedPerHost(second.stdout), { [HOST]: 0 });
});

/** GETs through Caddy until stopped, verified against Caddy's internal CA: every status and the versions seen. */
function pollThroughCaddy(ca: string) {
  const seen: { status: number; version?: string }[] = [];
  let running = true;
  const once = () =>
    new Promise<void>((resolve) => {
      const req = request(`${SITE}/api/health`, { ca, timeout: 3000 }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          seen.push({ status: res.statusCode ?? 0, version: (() => { try { return JSON.parse(body).version; } catch { return undefined; } })() });
          resolve();
        });
      });
      req.on('error', () => (seen.push({ status: 0 }), resolve()));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  const loop = (async () => {
    // Bounded: at most 2,000 requests, whatever happens to the release.
    for (let i = 0; running && i < 2000; i++) {
      await once();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { seen, stop: async () => ((running = false), await loop) };
}

test('release.ts: bad and slow releases roll back with a notification; a good one switches with no failed request, blue stops after the keep time', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-ss-'));
  // The lab's gate waits 10 s before its first check and keeps the old slot an hour; here 2 s and 20 s.
  const short = editedInventory(editedInventory(SINGLE_SERVER_INVENTORY, 'delaySeconds: 10', 'delaySeconds: 2', path.join(dir, 'a.yml')), 'keep_old_for_seconds: 3600', 'keep_old_for_seconds: 20', path.join(dir, 'single-server.yml'));
  const release = (image: string, args: string[] = []) => playbook('playbooks/release.ts', short, ['app', '--image', image, ...args]);
  await on(webhookReceiverCommand());
  await waitFor('the webhook receiver', async () => (await on('curl -s -o /dev/null http://127.0.0.1:9099/')).code === 0);

  const v1 = await release(refOf(APP_RELEASES.v1));
  assert.equal(v1.code, 0, v1.stdout + v1.stderr);
  const ca = (await on('cat /var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt')).stdout;
  assert.match(ca, /BEGIN CERTIFICATE/);
  const version = async () => {
    const p = pollThroughCaddy(ca);
    await new Promise((r) => setTimeout(r, 200));
    await p.stop();
    return p.seen.at(-1)?.version;
  };
  assert.equal(await version(), 'v1');
  assert.equal(await active('app-blue'), 'active');

  for (const [name, why] of [['bad', /status 503, expected 200/], ['slow', /answered in \d+ ms, over the 500 ms bound/]] as const) {
    const r = await release(refOf(APP_RELEASES[name]));
    assert.notEqual(r.code, 0, `${name}: the run fails`);
    assert.match(r.stdout, new RegExp(`rolled back: green failed its health check \\(${why.source}\\); blue keeps serving`));
    assert.notEqual(await active('app-green'), 'active', `${name}: green is stopped`);
    assert.equal(await bootLinked('app-green'), false, `${name}: the stopped green slot does not come back at boot`);
    assert.equal(await active('app-blue'), 'active');
    assert.equal(await version(), 'v1', `${name}: blue keeps serving`);
  }
  const hooks = (await on('cat /tmp/hook.log')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; reason: string; version: string });
  assert.deepEqual(hooks.map((h) => [h.outcome, h.version]), [['rolled back', refOf(APP_RELEASES.bad)], ['rolled back', refOf(APP_RELEASES.slow)]]);

  const check = await release(refOf(APP_RELEASES.v2), ['--check', '--diff']);
  assert.equal(check.code, 0);
  assert.match(check.stdout, /3\. switch the proxy to green \(:3006\)/);
  assert.notEqual(await active('app-green'), 'active', 'check mode started nothing');

  const poll = pollThroughCaddy(ca);
  const v2 = await release(refOf(APP_RELEASES.v2));
  await new Promise((r) => setTimeout(r, 500));
  await poll.stop();
  assert.equal(v2.code, 0, v2.stdout + v2.stderr);
  const failed = poll.seen.filter((s) => s.status !== 200);
  assert.ok(poll.seen.length > 20, `the client polled throughout (${poll.seen.length} requests)`);
  assert.deepEqual(failed, [], 'no request failed during the switch');
  assert.equal(poll.seen[0]!.version, 'v1');
  assert.equal(poll.seen.at(-1)!.version, 'v2');
  // Blue stays up for the keep time (an instant rollback), then its timer stops it.
  assert.equal(await active('app-blue'), 'active');
  await waitFor('blue to stop after the keep time', async () => (await active('app-blue')) !== 'active', 90_000);
  await waitFor('blue to leave the boot', async () => !(await bootLinked('app-blue')), 10_000);
  assert.equal(await active('app-green'), 'active');
  assert.equal(await bootLinked('app-green'), true, 'the live slot starts at boot');

  const again = await release(refOf(APP_RELEASES.v2));
  assert.equal(again.code, 0);
  assert.deepEqual(changedPerHost(again.stdout), { [HOST]: 0 });
  await on('systemctl stop rigger-hook');
});
