// Saved plans (#32) on the rehearsal of the real cluster, acceptance 1-4:
// one inventory variable (timezone, on the gateway and cicd nodes) changed
// on a converged rehearsal; `site.ts --plan` lists exactly those changes (the
// base role writes a zone in two places: the /etc/localtime link and /etc/timezone),
// `rigger plan show` prints what `--check --diff` prints, and the plan file
// holds none of homelab.yml's vault values in any form; --apply makes them,
// and again says the plan was already applied; a hand edit on one host
// after the plan is refused there (exit 2) while the other host changes,
// and with --all-or-nothing neither does; a plan older than the inventory
// is refused at once (exit 4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sh } from '../../lib/shell/command.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import type { RunEvent } from '../../lib/model/events.ts';
import { HOMELAB_VAULT_PASSWORD, REHEARSAL_INVENTORY } from '../../scripts/lab/rehearsal.ts';
import { runCli } from '../helpers/cli.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';
import { onNode } from '../helpers/node.ts';
import { leaks } from '../helpers/secret-forms.ts';

const TWO = ['gateway.vibe.local', 'cicd.vibe.local'];
const NODE: Record<string, string> = { 'gateway.vibe.local': 'gateway', 'cicd.vibe.local': 'cicd' };
const ZONE_TASKS = ['time zone link', 'time zone name'];
let inv: string;
let original: string;
let originalZone: string;
const work = mkdtempSync(path.join(tmpdir(), 'rehearsal-plans-'));

/** The rehearsal inventory with a timezone of the two hosts' own (their host entries), nothing else changed. */
function setZone(zone: string | undefined): void {
  const text = zone === undefined ? original : original.replace(/^( *)(gateway\.vibe\.local|cicd\.vibe\.local):\n/gm, (_m, indent: string, host: string) => `${indent}${host}:\n${indent}  timezone: ${zone}\n`);
  if (zone !== undefined) assert.notEqual(text, original, 'both host entries found');
  writeFileSync(REHEARSAL_INVENTORY, text);
}

const events = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as RunEvent);
const changed = (stdout: string) =>
  events(stdout)
    .filter((e): e is Extract<RunEvent, { type: 'task-host' }> => e.type === 'task-host' && e.status === 'changed')
    .map((e) => `${e.host} ${e.task}`)
    .sort();
const planEvent = (stdout: string) => events(stdout).find((e): e is Extract<RunEvent, { type: 'plan' }> => e.type === 'plan');
const expected = (hosts: string[]) => hosts.flatMap((h) => ZONE_TASKS.map((t) => `${h} ${t}`)).sort();
/**
 * The changed lines and the diff lines under them, durations taken out: what
 * --check --diff and `plan show` must both print. Only the changes: a
 * read-only task's message (a timer's next run) may differ from one run to the next.
 */
function decisions(out: string): string[] {
  let inChange = false;
  const kept: string[] = [];
  for (const l of out.split('\n')) {
    if (/^(ok|changed|skipped|failed):/.test(l)) inChange = l.startsWith('changed:');
    else if (!/^ {2}\[[a-z.]+\]/.test(l)) inChange = false;
    if (inChange) kept.push(l.replace(/ \(\d+(\.\d+)?\s*m?s\)/, ''));
  }
  return kept.sort();
}
const zoneOn = async (host: string) => (await onNode(inv, NODE[host]!, sh`cat /etc/timezone`)).stdout;

/** Every vault value of the rehearsal inventory, decrypted: what no plan may hold in any form. */
async function vaultValues(): Promise<string[]> {
  const inventory = await loadInventories([REHEARSAL_INVENTORY], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (v instanceof Secret) out.add(v.reveal());
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const host of inventory.hosts.keys()) for (const [, v] of inventory.varsFor(host)) walk(v.value);
  return [...out];
}

before(async () => {
  inv = await convergedRehearsal();
  original = readFileSync(REHEARSAL_INVENTORY, 'utf8');
  originalZone = (await zoneOn(TWO[0]!)).trim();
});

after(async () => {
  // The next suite reuses the converged rehearsal: the inventory and both hosts' zone as they were.
  setZone(undefined);
  for (const host of TWO) await onNode(inv, NODE[host]!, sh`printf '%s\n' ${originalZone} > /etc/timezone && ln -sfn ${`/usr/share/zoneinfo/${originalZone}`} /etc/localtime`);
});

test('acceptance 1-2: the plan lists exactly the two hosts\' zone changes, shows as --check --diff does, holds no vault value; --apply makes them, and again says it was applied', async () => {
  setZone('Europe/Berlin');
  const planFile = path.join(work, 'p.json');
  const planned = await onRehearsal('playbooks/site.ts', ['--plan', planFile, '--json']);
  assert.equal(planned.code, 0, planned.stderr);
  assert.deepEqual(changed(planned.stdout), expected(TWO), 'the plan run: exactly these changes');
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as { hosts: Record<string, { task: string; decision?: string; status: string; readOnly?: boolean }[]> };
  const plannedChanges = Object.entries(plan.hosts)
    .flatMap(([h, ts]) => ts.filter((t) => t.decision === 'change' && t.status === 'changed' && !t.readOnly).map((t) => `${h} ${t.task}`))
    .sort();
  assert.deepEqual(plannedChanges, expected(TWO));
  const text = readFileSync(planFile, 'utf8');
  const values = await vaultValues();
  assert.ok(values.length > 0, 'the rehearsal has vault values to look for');
  assert.deepEqual(leaks(text, values), [], 'no vault value, nor a plain digest of one, in the plan file');

  const shown = await runCli(['lib/cli/rigger.ts', 'plan', 'show', planFile], {}, 5 * 60_000);
  assert.equal(shown.code, 0, shown.stderr);
  const checked = await onRehearsal('playbooks/site.ts', ['--check', '--diff']);
  assert.equal(checked.code, 0);
  assert.deepEqual(decisions(shown.stdout), decisions(checked.stdout), 'plan show prints the diff --check --diff prints');
  assert.match(shown.stdout, /\+Europe\/Berlin/);

  const applied = await onRehearsal('playbooks/site.ts', ['--apply', planFile, '--json']);
  assert.equal(applied.code, 0, applied.stdout.slice(-4000));
  assert.deepEqual(changed(applied.stdout), expected(TWO), 'exactly the planned changes');
  for (const h of TWO) assert.equal(await zoneOn(h), 'Europe/Berlin\n');
  const again = await onRehearsal('playbooks/site.ts', ['--apply', planFile, '--json']);
  assert.equal(again.code, 0);
  assert.deepEqual(changed(again.stdout), []);
  assert.equal(planEvent(again.stdout)?.action, 'already-applied');
});

test('acceptance 3: a hand edit on one host after the plan: --all-or-nothing changes no host; without it the other host changes, the edited one is refused with both diffs, exit 2', async () => {
  setZone('Europe/Paris');
  const each = path.join(work, 'each.json');
  const whole = path.join(work, 'whole.json');
  assert.equal((await onRehearsal('playbooks/site.ts', ['--plan', each])).code, 0);
  assert.equal((await onRehearsal('playbooks/site.ts', ['--plan', whole, '--all-or-nothing'])).code, 0);
  const before = await zoneOn(TWO[1]!);
  await onNode(inv, 'gateway', sh`echo Edited/ByHand > /etc/timezone`);

  const none = await onRehearsal('playbooks/site.ts', ['--apply', whole, '--json']);
  assert.equal(none.code, 2, none.stdout.slice(-4000));
  assert.deepEqual(changed(none.stdout), []);
  assert.equal(await zoneOn(TWO[1]!), before, 'cicd left alone');
  assert.equal(planEvent(none.stdout)?.action, 'refused');

  const some = await onRehearsal('playbooks/site.ts', ['--apply', each, '--json']);
  assert.equal(some.code, 2, some.stdout.slice(-4000));
  // The gateway's zone link comes first and still holds; its zone name, edited by hand, stops the gateway there.
  assert.deepEqual(changed(some.stdout), [...expected([TWO[1]!]), 'gateway.vibe.local time zone link'].sort(), 'cicd changed; the gateway up to the edited file');
  assert.equal(await zoneOn(TWO[1]!), 'Europe/Paris\n');
  assert.equal(await zoneOn(TWO[0]!), 'Edited/ByHand\n', 'the edited file is not overwritten');
  const refusals = planEvent(some.stdout)!.refusals;
  assert.deepEqual(refusals.map((r) => `${r.host} ${r.task}`), ['gateway.vibe.local time zone name']);
  assert.match(refusals[0]!.reason, /-Edited\/ByHand/, 'the current diff');
  assert.match(refusals[0]!.reason, /\+Europe\/Paris/, 'the planned diff');
});

test('acceptance 4: a plan made before the inventory changed is refused at once, exit 4, naming the file', async () => {
  setZone('Europe/Rome');
  const planFile = path.join(work, 'stale.json');
  assert.equal((await onRehearsal('playbooks/site.ts', ['--plan', planFile])).code, 0);
  setZone('Europe/Madrid');
  const stale = await onRehearsal('playbooks/site.ts', ['--apply', planFile]);
  assert.equal(stale.code, 4);
  assert.match(stale.stderr, /the plan is stale, nothing was applied: inventory: inventory\/rehearsal\.yml changed/);
  assert.notEqual(await zoneOn(TWO[0]!), 'Europe/Rome\n');
});
