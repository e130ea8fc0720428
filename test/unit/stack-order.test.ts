// The stacks are deployed in list order; a list that deploys a stack before
// the stack serving the registry its images come from is refused when the
// inventory is loaded, at the file:line of the entry listed too early.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadInventories } from '../../lib/inventory/load.ts';
import { plainVars } from '../../lib/runner/host-vars.ts';
import { InputError } from '../../lib/shell/errors.ts';
import { checkStackOrder, registryOf } from '../../roles/stacks/order.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/run.ts';

const context = async (file: string) => {
  const inventory = await loadInventories([file], { vaultPassphrase: () => 'homelab-example' });
  return { inventory, hostVars: (h: string) => plainVars(inventory.varsFor(h)) };
};

/** The 1-based line of the first line of `text` that contains `needle`, found by reading the text, not the code. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

/** The operators' inventory with its stacks in the order it had before: ai before cicd. */
function aiBeforeCicd(): { file: string; text: string } {
  const text = readFileSync('inventory/homelab.yml', 'utf8');
  const lines = text.split('\n');
  const ai = lines.findIndex((l) => l.includes('- { name: ai, file: stacks/ai.yml'));
  const gateway = lines.findIndex((l) => l.includes('- { name: gateway, file: stacks/gateway.yml'));
  assert.ok(ai > gateway && gateway > 0, 'homelab.yml lists gateway and ai');
  const [entry] = lines.splice(ai, 1);
  lines.splice(gateway + 1, 0, entry!);
  const file = path.join(scratchDir(), 'homelab-ai-first.yml');
  writeFileSync(file, lines.join('\n'));
  return { file, text: lines.join('\n') };
}

test("the operators' inventory deploys cicd (LangGraph's registry) before ai, and passes the check", async () => {
  const ctx = await context('inventory/homelab.yml');
  const names = (ctx.hostVars('gateway.vibe.local').stacks as { name: string }[]).map((s) => s.name);
  assert.ok(names.indexOf('cicd') < names.indexOf('ai'), names.join(', '));
  assert.doesNotThrow(() => checkStackOrder(ctx));
});

test("the operators' inventory with ai listed before cicd is refused at the ai entry's file:line, naming both stacks and the image", async () => {
  const { file, text } = aiBeforeCicd();
  const ctx = await context(file);
  assert.throws(
    () => checkStackOrder(ctx),
    (err: unknown) => {
      assert.ok(err instanceof InputError, String(err));
      assert.deepEqual(typeof err.where === 'object' ? [err.where.file, err.where.line] : err.where, [file, lineOf(text, '- { name: ai, file: stacks/ai.yml')]);
      assert.match(err.message, /stack ai is deployed before stack cicd, but ai_langgraph's image cicd\.vibe\.local:5000\/vibe\/langgraph-agent:1\.4\.0 comes from the registry cicd serves \(cicd_registry on port 5000\): list cicd before ai/);
      return true;
    },
  );
});

test('site.ts refuses that inventory before contacting any host, exit 4 and the file:line on stderr', async () => {
  const { file, text } = aiBeforeCicd();
  const r = await runCli(['playbooks/site.ts', '-i', file, '--check'], { RIGGER_VAULT_PASSWORD: 'homelab-example' }, 120_000);
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.ok(r.stderr.includes(`${file}:${lineOf(text, '- { name: ai, file: stacks/ai.yml')}:`), r.stderr);
  assert.match(r.stderr, /list cicd before ai/);
  assert.doesNotMatch(r.stdout, /PLAY \[/, 'no play started');
});

/** A scratch cluster: a builder node serving a registry from stack `reg`, an app stack pulling from it. */
function scratch(order: ('reg' | 'app')[], appImage: string, extra = '', mode: 'host' | 'ingress' = 'host'): { file: string; text: string } {
  const dir = scratchDir();
  writeFileSync(path.join(dir, 'reg.yml'), 'services:\n  registry:\n    image: registry:2.8.3\n    ports:\n      - { target: 5000, published: 5000, mode: ${PUBLISH_MODE} }\n    deploy:\n      placement: { constraints: [node.labels.role == build] }\n');
  writeFileSync(path.join(dir, 'app.yml'), `services:\n  web:\n    image: ${appImage}\n`);
  const entries = order.map((n) => `      - { name: ${n}, file: ${path.join(dir, `${n}.yml`)} }`);
  const text = ['all:', '  vars:', `    service_publish_mode: ${mode}`, extra, '    stacks:', ...entries, '  children:', '    managers:', '      hosts:', '        boss.lan:', '    workers:', '      hosts:', '        builder.lan: { node_role: build, ansible_host: 10.0.0.7 }', ''].filter(Boolean).join('\n');
  const file = path.join(dir, 'hosts.yml');
  writeFileSync(file, text);
  return { file, text };
}

test('a scratch inventory: refused when the app comes first and pulls from the registry node by name, short name or address; accepted otherwise', async () => {
  for (const image of ['builder.lan:5000/app:1', 'builder:5000/app:1', '10.0.0.7:5000/app:1']) {
    const { file, text } = scratch(['app', 'reg'], image);
    await assert.rejects(
      async () => checkStackOrder(await context(file)),
      (err: unknown) => err instanceof InputError && typeof err.where === 'object' && err.where.line === lineOf(text, '- { name: app') && /list reg before app/.test(err.message),
      image,
    );
  }
  // The right order; an image from a registry the list does not serve; the registry placed on another node (host mode).
  checkStackOrder(await context(scratch(['reg', 'app'], 'builder.lan:5000/app:1').file));
  checkStackOrder(await context(scratch(['app', 'reg'], 'registry.example.com:5000/app:1').file));
  checkStackOrder(await context(scratch(['app', 'reg'], 'boss.lan:5000/app:1').file));
  // In ingress mode the registry answers on every node, the manager included.
  const ingress = scratch(['app', 'reg'], 'boss.lan:5000/app:1', '', 'ingress');
  await assert.rejects(async () => checkStackOrder(await context(ingress.file)), /list reg before app/);
  // A rehearsal that maps the app's image to one of its own registry pulls from there, so the order does not matter.
  const mapped = scratch(['app', 'reg'], 'builder.lan:5000/app:1', '    stack_images: { "builder.lan:5000/app:1": "172.30.99.5:5000/lab/app:1" }');
  checkStackOrder(await context(mapped.file));
});

test('registryOf reads the registry of an image reference as Docker does', () => {
  assert.deepEqual(registryOf('cicd.vibe.local:5000/vibe/langgraph-agent:1.4.0'), { host: 'cicd.vibe.local', port: 5000 });
  assert.deepEqual(registryOf('ghcr.io/org/app:1'), { host: 'ghcr.io', port: 443 });
  assert.deepEqual(registryOf('localhost/app'), { host: 'localhost', port: 443 });
  assert.equal(registryOf('portainer/portainer-ce:2.21.4'), undefined);
  assert.equal(registryOf('postgres:16-alpine'), undefined);
});

test("the rehearsal's inventory, written from the operators', keeps their order and passes", async () => {
  const { rehearsalInventoryText } = await import('../../scripts/lab/rehearsal.ts');
  const file = path.join(scratchDir(), 'rehearsal.yml');
  writeFileSync(file, rehearsalInventoryText());
  const ctx = await context(file);
  const names = (ctx.hostVars('gateway.vibe.local').stacks as { name: string }[]).map((s) => s.name);
  assert.deepEqual(names, ['gateway', 'data', 'cicd', 'ai']);
  assert.doesNotThrow(() => checkStackOrder(ctx));
});
