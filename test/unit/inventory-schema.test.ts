// `rigger schema inventory` against the repository's inventories, checked by
// a real JSON Schema validator (ajv, draft 2020-12): the example cluster's
// inventory and the lab's (as `scripts/lab.ts up` writes it) validate, and a
// misspelt role variable is refused with its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
// !vault values are strings to the YAML language server too.
const readYaml = (file: string) => parse(readFileSync(file, 'utf8'), { customTags: [{ tag: '!vault', resolve: (s: string) => s }] }) as unknown;

async function schema(): Promise<object> {
  const r = await runCli(['lib/cli/rigger.ts', 'schema', 'inventory']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as object;
}

/** inventory/lab.yml as `scripts/lab.ts up` writes it, in a scratch directory (its .lab/ values are made there). */
async function labInventory(): Promise<unknown> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-lab-inv-'));
  mkdirSync(path.join(dir, 'inventory'));
  const r = await runCli(['--eval', `process.chdir(${JSON.stringify(dir)}); import(${JSON.stringify(path.join(REPO, "scripts/lab/inventory.ts"))}).then((m) => m.writeLabInventory());`]);
  assert.equal(r.code, 0, r.stderr);
  try {
    return readYaml(path.join(dir, 'inventory/lab.yml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the inventory schema validates homelab.yml and the lab inventory, and refuses a misspelt role variable', async () => {
  const validate = new Ajv2020({ allErrors: true, strict: false, logger: false }).compile(await schema());
  const homelab = readYaml(path.join(REPO, 'inventory/homelab.yml')) as { all: { vars: Record<string, unknown>; children: Record<string, any> } };
  assert.ok(validate(homelab), JSON.stringify(validate.errors));
  const lab = await labInventory();
  assert.ok(validate(lab), JSON.stringify(validate.errors));

  // A role variable misspelt at group level (timezone) and on a host (sshd_port of role base).
  const typo = structuredClone(homelab);
  typo.all.vars.timezon = 'Asia/Seoul';
  assert.equal(validate(typo), false);
  assert.ok(validate.errors?.some((e) => e.keyword === 'additionalProperties' && (e.params as { additionalProperty: string }).additionalProperty === 'timezon'), JSON.stringify(validate.errors));
  const hostTypo = structuredClone(homelab);
  hostTypo.all.children.managers.hosts['gateway.vibe.local'].sshd_prot = 222;
  assert.equal(validate(hostTypo), false);
  // A known variable with a value of the wrong type is refused too (role base's zod enum).
  const badValue = structuredClone(homelab);
  badValue.all.vars.apt_upgrade = 'sometimes';
  assert.equal(validate(badValue), false);
});

test('the layouts\' example inventories validate against the roles\' declared variables', async () => {
  const validate = new Ajv2020({ allErrors: true, strict: false, logger: false }).compile(await schema());
  for (const file of ['inventory/core-edge.yml', 'inventory/single-server.yml']) {
    const inv = readYaml(path.join(REPO, file)) as { all: { children: Record<string, { vars: Record<string, unknown> }> } };
    assert.ok(validate(inv), `${file}: ${JSON.stringify(validate.errors)}`);
    // A misspelt layout variable is refused by name.
    const typo = structuredClone(inv);
    const group = Object.values(typo.all.children)[0]!;
    group.vars.compose_project = [];
    assert.equal(validate(typo), false, file);
  }
});
