// The Core/Edge layout (playbooks/core-edge.ts) on two fresh trixie lab hosts:
// UFW, both Compose projects up and healthy, Edge's nginx answering with the
// lab's certificate, Core's PostgreSQL refused from a third node, a second
// run changing nothing, a missing env file stopping the run before any host
// changes, and one changed environment value recreating only its container.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sh } from '../../lib/shell/command.ts';
import { LAB_CA } from '../../scripts/lab/layouts.ts';
import { CORE_EDGE_INVENTORY, LAB_ENV_DIR, SINGLE_SERVER_INVENTORY } from '../../scripts/lab/layout-inventory.ts';
import { ensureLab } from '../helpers/lab.ts';
import { changedPerHost, containerIds, editedInventory, freshLayouts, idleLayouts, playbook } from '../helpers/layouts.ts';
import { onNode } from '../helpers/node.ts';

const PLAYBOOK = 'playbooks/core-edge.ts';
const INV = CORE_EDGE_INVENTORY;
const EDGE = '172.30.99.21';
const CORE = '172.30.99.20';

before(() => {
  ensureLab();
  freshLayouts(['core', 'edge']);
});
// Its services stopped when done: they would slow every later suite.
after(() => idleLayouts(['core', 'edge']));

test('a missing env file stops the run before any host changes, naming the file', async () => {
  const envEdge = path.join(LAB_ENV_DIR, '.env.edge');
  renameSync(envEdge, `${envEdge}.away`);
  try {
    const r = await playbook(PLAYBOOK, INV);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, new RegExp(`missing: ${envEdge.replace(/[.]/g, '\\.')}`));
    assert.deepEqual(changedPerHost(r.stdout), { 'core-vm': 0, 'edge-vm': 0 });
    // Nothing was installed: the bootstrap never started.
    for (const host of ['core-vm', 'edge-vm']) assert.notEqual((await onNode(INV, host, sh`command -v docker`)).code, 0, host);
  } finally {
    renameSync(`${envEdge}.away`, envEdge);
  }
});

test('first run: UFW, both projects healthy, TLS on Edge, Core refused from a third node; a second run changes nothing', async () => {
  const first = await playbook(PLAYBOOK, INV);
  assert.equal(first.code, 0, first.stdout + first.stderr);

  const ufw = (host: string) => onNode(INV, host, sh`LC_ALL=C ufw status`).then((r) => r.stdout);
  const rulesOf = (status: string) => status.split('\n').filter((l) => /ALLOW/.test(l) && !l.includes('(v6)')).map((l) => l.replace(/\s+/g, ' ').replace(/ #.*$/, '').trim()).sort();
  assert.deepEqual(rulesOf(await ufw('edge-vm')), ['22/tcp ALLOW Anywhere', '443/tcp ALLOW Anywhere', '80/tcp ALLOW Anywhere']);
  assert.deepEqual(rulesOf(await ufw('core-vm')), ['22/tcp ALLOW Anywhere', '4317/tcp ALLOW ' + EDGE, '443/tcp ALLOW Anywhere', '5432/tcp ALLOW ' + EDGE, '6379/tcp ALLOW ' + EDGE, '80/tcp ALLOW Anywhere', '9000/tcp ALLOW ' + EDGE]);

  for (const [host, dir] of [['core-vm', '/opt/vibearena/core'], ['edge-vm', '/opt/vibearena/edge']] as const) {
    const ps = (await onNode(INV, host, sh`cd ${dir} && docker compose ps -a --format '{{.Service}} {{.State}} {{.Health}}'`)).stdout.trim().split('\n').map((l) => l.trim());
    assert.ok(ps.length >= (host === 'core-vm' ? 9 : 2), ps.join('\n'));
    for (const line of ps) assert.match(line, /^\S+ running( healthy)?$/, `${host}: ${line}`);
  }
  const envMode = (await onNode(INV, 'core-vm', sh`stat -c %a /opt/vibearena/core/.env /opt/vibearena/core/env/.env.core`)).stdout.split('\n').filter(Boolean);
  assert.deepEqual(envMode, ['600', '600']);

  // Through nginx, verified against the lab's certificate authority (no -k).
  const health = execFileSync('curl', ['-sS', '-D-', '--cacert', LAB_CA, '--max-time', '10', `https://${EDGE}/nginx/health`], { encoding: 'utf8' });
  assert.match(health, /^HTTP\/\S+ 200/);
  assert.match(health, /strict-transport-security: max-age=31536000/i);
  assert.match(health, /x-frame-options: DENY/i);
  // Django's stand-in behind nginx answers, which it does only once it reaches Core's PostgreSQL and Redis.
  const web = JSON.parse(execFileSync('curl', ['-sS', '--cacert', LAB_CA, '--max-time', '10', `https://${EDGE}/health`], { encoding: 'utf8' }));
  assert.deepEqual(web.unreachable, []);

  const probe = (host: string, inv: string) => onNode(inv, host, sh`timeout 5 bash -c ${`echo > /dev/tcp/${CORE}/5432`} 2>&1; echo "rc=$?"`).then((r) => r.stdout);
  // The third node: the layouts' single host (its key pinned by the same `up --layouts` as Core's and Edge's).
  assert.match(await probe('single-vm', SINGLE_SERVER_INVENTORY), /Connection refused[\s\S]*rc=1/, 'Core refuses its PostgreSQL port to a third node');
  assert.match(await probe('edge-vm', INV), /rc=0/, 'Edge reaches it');

  const second = await playbook(PLAYBOOK, INV);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.deepEqual(changedPerHost(second.stdout), { 'core-vm': 0, 'edge-vm': 0 });
});

test("one service's environment value: --check --diff shows it, then only that container is recreated", async () => {
  const changed = editedInventory(INV, 'EXECUTOR_CONCURRENCY: "2"', 'EXECUTOR_CONCURRENCY: "3"', path.join(mkdtempSync(path.join(tmpdir(), 'rigger-ce-')), 'core-edge.yml'));
  const before = await containerIds(INV, 'core-vm');

  const check = await playbook(PLAYBOOK, changed, ['--check', '--diff', '--limit', 'core-vm']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /-EXECUTOR_CONCURRENCY=\*\*\* \(previous value hidden\)\n.*\+EXECUTOR_CONCURRENCY=3/);
  assert.match(check.stdout, /services concerned: executor \(changed: EXECUTOR_CONCURRENCY\)/);
  assert.deepEqual(changedPerHost(check.stdout), { 'core-vm': 1 });
  assert.deepEqual(await containerIds(INV, 'core-vm'), before, 'check mode touched no container');

  const apply = await playbook(PLAYBOOK, changed, ['--limit', 'core-vm']);
  assert.equal(apply.code, 0, apply.stdout + apply.stderr);
  const after = await containerIds(INV, 'core-vm');
  const recreated = Object.keys(before).filter((name) => after[name] !== before[name]);
  assert.deepEqual(recreated, ['core-executor-1']);
  assert.match((await onNode(INV, 'core-vm', sh`docker exec core-executor-1 printenv EXECUTOR_CONCURRENCY`)).stdout, /^3$/m);
});
