// Saved plans (#32) against real sshd hosts: --plan, `rigger plan show`,
// --apply, applying again, the refusals (a hand-edited file, exit 2; a
// stale inventory or -e, exit 4), --all-or-nothing, and a plan file that
// holds no vault value in any form. The playbook is
// test/fixtures/playbooks/plans.ts; each host keeps its files in its own dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunEvent } from '../../lib/model/events.ts';
import { encryptValue } from '../../lib/shell/vault.ts';
import { runCli } from '../helpers/cli.ts';
import { leaks } from '../helpers/secret-forms.ts';
import { sshInventory, startSshd, type TestSshd } from '../helpers/sshd.ts';

const PLAYBOOK = 'test/fixtures/playbooks/plans.ts';
const PASS = 'plan-test-passphrase';

interface Lab {
  hosts: TestSshd[];
  work: string;
  secretValue: string;
  inventory: string;
  dir: (host: string) => string;
  /** Rewrites the inventory with this app_setting (the same hosts, keys and secret). */
  setting: (value: string) => void;
  run: (...args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string; events: RunEvent[] }>;
  close: () => Promise<void>;
}

/** `vault: false`: the secret comes from the playbook's environment, and no vault passphrase is given at all. */
async function lab({ vault = true, playbook = PLAYBOOK, race = false } = {}): Promise<Lab> {
  const hosts = await Promise.all([startSshd(), startSshd({ address: '127.0.0.2' })]);
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-plans-'));
  const secretValue = `db-pw-${Math.random().toString(36).slice(2, 12)}`;
  const secretVar = vault ? [`db_password: !vault ${encryptValue(secretValue, PASS)}`] : [];
  const dir = (host: string) => path.join(work, host);
  const inventory = sshInventory(hosts.map((sshd, i) => ({ name: `h${i + 1}`, sshd, vars: [`plan_dir: ${dir(`h${i + 1}`)}`, 'app_setting: one', ...secretVar] })));
  const original = readFileSync(inventory, 'utf8');
  const env: Record<string, string> = { ...(vault ? { RIGGER_VAULT_PASSWORD: PASS } : { PLAN_SECRET: secretValue }), ...(race ? { PLAN_RACE: '1' } : {}) };
  return {
    hosts,
    work,
    secretValue,
    inventory,
    dir,
    setting: (value) => writeFileSync(inventory, original.replaceAll('app_setting: one', `app_setting: ${value}`)),
    run: async (...args) => {
      const r = await runCli(args[0] === 'plan' ? ['lib/cli/rigger.ts', ...args] : [playbook, '-i', inventory, ...args], env, 120_000);
      const events = args.includes('--json') ? r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent) : [];
      return { ...r, events };
    },
    close: async () => {
      await Promise.all(hosts.map((h) => h.stop()));
    },
  };
}

const planEvent = (events: RunEvent[]) => events.find((e): e is Extract<RunEvent, { type: 'plan' }> => e.type === 'plan');
const changedTasks = (events: RunEvent[]) =>
  events
    .filter((e): e is Extract<RunEvent, { type: 'task-host' }> => e.type === 'task-host' && e.status === 'changed')
    .map((e) => `${e.host} ${e.task}`)
    .sort();
/** Result and diff lines with the durations taken out: what --check --diff and `plan show` must both print. */
const decisions = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^(ok|changed|skipped|failed):|^ {2}\[h\d\]/.test(l))
    .map((l) => l.replace(/ \(\d+(\.\d+)?\s*m?s\)/, ''))
    .sort();
const read = (file: string) => readFileSync(file, 'utf8');
const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The usual start: a converged pair, then app_setting changed to two and a plan made (with these extra flags) to p.json. */
async function planAfterSettingChange(l: Lab, ...flags: string[]): Promise<string> {
  assert.equal((await l.run()).code, 0, 'the first converge');
  l.setting('two');
  const planFile = path.join(l.work, 'p.json');
  const planned = await l.run('--plan', planFile, ...flags);
  assert.equal(planned.code, 0, planned.stdout + planned.stderr);
  return planFile;
}

/** A copy of the playbook and its helper module to edit, beside the original (so its imports resolve the same). */
function copiedPlaybook(): { dir: string; playbook: string; helper: string } {
  const dir = mkdtempSync(path.join(path.dirname(PLAYBOOK), 'tmp-plans-'));
  // One directory deeper: the imports of rigger go one more level up.
  for (const module of ['plans.ts', 'plans-content.ts', 'plans-raced.ts']) {
    writeFileSync(path.join(dir, module), read(path.join(path.dirname(PLAYBOOK), module)).replaceAll("'../../../lib/", "'../../../../lib/"));
  }
  return { dir, playbook: path.join(dir, 'plans.ts'), helper: path.join(dir, 'plans-content.ts') };
}

test('plan, show, apply, apply again: exactly the planned changes, then nothing; the plan file holds no vault value in any form', async () => {
  const l = await lab();
  try {
    assert.equal((await l.run()).code, 0, 'the first converge');
    l.setting('two');
    const planFile = path.join(l.work, 'p.json');
    const planned = await l.run('--plan', planFile, '--json');
    assert.equal(planned.code, 0, planned.stderr);
    const written = planEvent(planned.events);
    assert.equal(written?.action, 'written');
    assert.match(written!.digests.source!, /^hmac-sha256:[0-9a-f]{64}$/, 'with a passphrase every digest is keyed');
    // The plan run is a check run: nothing changed on the hosts.
    assert.equal(read(path.join(l.dir('h1'), 'app.conf')), 'setting=one\n');

    const plan = JSON.parse(read(planFile)) as { hosts: Record<string, { task: string; decision?: string; probe?: string }[]> };
    for (const host of ['h1', 'h2']) {
      assert.deepEqual(plan.hosts[host]!.filter((t) => t.decision === 'change').map((t) => t.task), ['app.conf', 'reload marker'], `${host}: exactly the edited file and its handler`);
      assert.ok(plan.hosts[host]!.every((t) => t.probe === 'none' || /^hmac-sha256:/.test(t.probe ?? '')), 'every decision has its keyed probe digest');
    }
    const text = read(planFile);
    assert.deepEqual(leaks(text, [l.secretValue, PASS]), [], 'no vault value or passphrase, nor a plain sha256/sha1/md5, hex or base64 of one');

    const shown = await l.run('plan', 'show', planFile);
    assert.equal(shown.code, 0, shown.stderr);
    const checked = await l.run('--check', '--diff');
    assert.equal(checked.code, 0);
    assert.deepEqual(decisions(shown.stdout), decisions(checked.stdout), 'plan show prints what --check --diff prints');
    assert.match(shown.stdout, /\+setting=two/);
    assert.deepEqual(leaks(shown.stdout, [l.secretValue]), []);

    const applied = await l.run('--apply', planFile, '--json');
    assert.equal(applied.code, 0, applied.stdout);
    assert.deepEqual(changedTasks(applied.events), ['h1 app.conf', 'h1 reload marker', 'h2 app.conf', 'h2 reload marker']);
    assert.equal(planEvent(applied.events)?.action, 'applied');
    for (const host of ['h1', 'h2']) assert.equal(read(path.join(l.dir(host), 'app.conf')), 'setting=two\n');

    const again = await l.run('--apply', planFile, '--json');
    assert.equal(again.code, 0);
    assert.deepEqual(changedTasks(again.events), [], 'the second apply changes nothing');
    assert.equal(planEvent(again.events)?.action, 'already-applied');
    assert.match(planEvent(again.events)!.message, /already applied/);
  } finally {
    await l.close();
  }
});

test('a file edited by hand after the plan: --all-or-nothing changes no host; without it the other host changes, the edited one is refused with both diffs, exit 2', async () => {
  const l = await lab();
  try {
    assert.equal((await l.run()).code, 0);
    l.setting('two');
    const each = path.join(l.work, 'each.json');
    const whole = path.join(l.work, 'whole.json');
    assert.equal((await l.run('--plan', each)).code, 0);
    assert.equal((await l.run('--plan', whole, '--all-or-nothing')).code, 0);
    writeFileSync(path.join(l.dir('h1'), 'app.conf'), 'edited by hand\n');

    const none = await l.run('--apply', whole, '--json');
    assert.equal(none.code, 2, none.stdout);
    assert.deepEqual(changedTasks(none.events), [], 'no host changed');
    assert.equal(read(path.join(l.dir('h2'), 'app.conf')), 'setting=one\n', 'h2 still holds its planned change but was left alone');
    const refused = planEvent(none.events);
    assert.equal(refused?.action, 'refused');
    assert.deepEqual(refused!.refusals.map((r) => `${r.host} ${r.task}`), ['h1 app.conf']);

    const report = path.join(l.work, 'report.html');
    const some = await l.run('--apply', each, '--json', '--report', report);
    assert.equal(some.code, 2, some.stdout);
    assert.deepEqual(changedTasks(some.events), ['h2 app.conf', 'h2 reload marker']);
    assert.equal(read(path.join(l.dir('h2'), 'app.conf')), 'setting=two\n');
    assert.equal(read(path.join(l.dir('h1'), 'app.conf')), 'edited by hand\n', 'the edited file is not overwritten');
    const failed = some.events.find((e) => e.type === 'task-host' && e.host === 'h1' && e.task === 'app.conf');
    assert.equal(failed?.type === 'task-host' && failed.status, 'failed');
    const applied = planEvent(some.events)!;
    assert.equal(applied.action, 'applied');
    assert.deepEqual(applied.refusals.map((r) => `${r.host} ${r.task}`), ['h1 app.conf']);
    const reason = applied.refusals[0]!.reason;
    assert.match(reason, /-edited by hand/, 'the current diff');
    assert.match(reason, /-setting=one\n.*\+setting=two/s, 'the planned diff');
    assert.match(applied.digests.inventory!, /^hmac-sha256:/, '--json shows the digests');
    assert.ok(!some.events.some((e) => e.type === 'task-host' && e.host === 'h1' && e.task === 'secret.conf'), 'h1 stops at the refused task');
    const page = read(report);
    assert.match(page, /<h2>Plan<\/h2>/);
    assert.match(page, /refused <b>app\.conf<\/b>/);
  } finally {
    await l.close();
  }
});

test('a plan made before the inventory or -e changed is refused at once, exit 4, naming what changed; no host is touched', async () => {
  const l = await lab();
  try {
    assert.equal((await l.run()).code, 0);
    l.setting('two');
    const planFile = path.join(l.work, 'p.json');
    assert.equal((await l.run('--plan', planFile, '-e', 'extra=1')).code, 0);
    const logins = () => l.hosts.map((h) => h.log().split('Accepted publickey').length - 1);
    const before = logins();
    assert.ok(before.every((n) => n > 0), 'the sshd log records each login');

    const otherVars = await l.run('--apply', planFile, '-e', 'extra=2');
    assert.equal(otherVars.code, 4);
    assert.match(otherVars.stderr, /stale.*variables \(-e\): -e extra changed/);

    l.setting('three');
    const stale = await l.run('--apply', planFile, '-e', 'extra=1');
    assert.equal(stale.code, 4);
    assert.match(stale.stderr, new RegExp(`stale.*inventory: ${l.inventory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} changed`));
    for (const host of ['h1', 'h2']) assert.equal(read(path.join(l.dir(host), 'app.conf')), 'setting=one\n', 'nothing applied');
    assert.deepEqual(logins(), before, 'the refusals come before any connection');
  } finally {
    await l.close();
  }
});

test('with no vault passphrase: plain SHA-256 digests, and the tasks a Secret flows into carry none: decided again at apply, and said so both times', async () => {
  const l = await lab({ vault: false });
  try {
    assert.equal((await l.run()).code, 0);
    l.setting('two');
    const secretFile = path.join(l.dir('h1'), 'secret.conf');
    writeFileSync(secretFile, 'rotated by hand\n');
    const planFile = path.join(l.work, 'p.json');
    const planned = await l.run('--plan', planFile, '--json');
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planEvent(planned.events)!.digests.source!, /^sha256:/);
    const warning = planned.events.find((e) => e.type === 'warning' && e.message.includes('decided again at apply'));
    assert.ok(warning?.type === 'warning' && /h1: secret\.conf; h2: secret\.conf/.test(warning.message), JSON.stringify(warning));
    const plan = JSON.parse(read(planFile)) as { hosts: Record<string, { task: string; decidedAgain?: boolean; probe?: string }[]> };
    const secretTask = plan.hosts.h1!.find((t) => t.task === 'secret.conf')!;
    assert.equal(secretTask.decidedAgain, true);
    assert.equal(secretTask.probe, undefined, 'no digest of what was read from the secret file');
    assert.match(plan.hosts.h1!.find((t) => t.task === 'app.conf')!.probe!, /^sha256:/);
    assert.deepEqual(leaks(read(planFile), [l.secretValue]), []);

    const applied = await l.run('--apply', planFile, '--json');
    assert.equal(applied.code, 0, applied.stdout);
    assert.deepEqual(changedTasks(applied.events), ['h1 app.conf', 'h1 reload marker', 'h1 secret.conf', 'h2 app.conf', 'h2 reload marker']);
    assert.equal(read(secretFile), l.secretValue, 'decided again: the secret file is converged as an ordinary run would');
    assert.match(planEvent(applied.events)!.message, /2 tasks decided again \(no passphrase keyed the plan\): h1: secret\.conf; h2: secret\.conf/);
  } finally {
    await l.close();
  }
});

test('a helper module of the playbook (it declares no task) edited after the plan: refused at once, exit 4, naming it; no host contacted', async () => {
  const copy = copiedPlaybook();
  const l = await lab({ playbook: copy.playbook });
  try {
    const planFile = await planAfterSettingChange(l);
    const logins = () => l.hosts.map((h) => h.log().split('Accepted publickey').length - 1);
    const before = logins();
    const helperText = read(copy.helper);
    writeFileSync(copy.helper, helperText.replace('`setting=${setting}', '`setting = ${setting}'));
    assert.notEqual(read(copy.helper), helperText, 'the helper was edited');
    const stale = await l.run('--apply', planFile);
    assert.equal(stale.code, 4, stale.stdout + stale.stderr);
    assert.match(stale.stderr, new RegExp(`stale.*playbook source: \\S*${escaped(path.join(path.basename(copy.dir), 'plans-content.ts'))} changed`));
    assert.deepEqual(logins(), before, 'refused before any connection');
    for (const host of ['h1', 'h2']) assert.equal(read(path.join(l.dir(host), 'app.conf')), 'setting=one\n', 'nothing applied');
  } finally {
    await l.close();
    rmSync(copy.dir, { recursive: true, force: true });
  }
});

test('a hand edit, after the plan, to the file of a task after its host\'s first planned change (a Secret\'s file, its diff hidden) is refused, exit 2, not overwritten', async () => {
  const l = await lab();
  try {
    assert.equal((await l.run()).code, 0);
    const secretFile = path.join(l.dir('h1'), 'secret.conf');
    // After the converge (which would write it again): the plan then updates it.
    writeFileSync(secretFile, 'stale\n');
    l.setting('two');
    const planFile = path.join(l.work, 'p.json');
    assert.equal((await l.run('--plan', planFile)).code, 0);
    const plan = JSON.parse(read(planFile)) as { hosts: Record<string, { task: string; decision?: string; afterChange?: boolean }[]> };
    const planned = plan.hosts.h1!.find((t) => t.task === 'secret.conf')!;
    assert.equal(planned.decision, 'change');
    assert.equal(planned.afterChange, true, 'app.conf comes before it on h1');
    writeFileSync(secretFile, 'edited by hand\n');

    const applied = await l.run('--apply', planFile, '--json');
    assert.equal(applied.code, 2, applied.stdout);
    assert.equal(read(secretFile), 'edited by hand\n', 'the hand edit is not overwritten');
    assert.deepEqual(planEvent(applied.events)!.refusals.map((r) => `${r.host} ${r.task}`), ['h1 secret.conf']);
    assert.equal(read(path.join(l.dir('h2'), 'secret.conf')), l.secretValue, 'h2 left alone by the plan: its secret file held');
    assert.equal(read(path.join(l.dir('h2'), 'app.conf')), 'setting=two\n', 'the other host goes on');
    const report = applied.events.find((e) => (e as { type: string }).type === 'report') as unknown as { text: string } | undefined;
    const rows = report!.text.replace(/^outcome rows: /, '').split('; ');
    assert.ok(rows.includes('h2 app.conf'), report!.text);
    assert.deepEqual(rows, [...new Set(rows)], 'the check pass adds no row: each task and host once');
  } finally {
    await l.close();
  }
});

test('--all-or-nothing: a host unreachable when the plan is checked does not hold its planned change, so no host changes; run-start comes first', async () => {
  const l = await lab();
  try {
    const planFile = await planAfterSettingChange(l, '--all-or-nothing');
    await l.hosts[1]!.stop();
    const applied = await l.run('--apply', planFile, '--json');
    assert.notEqual(applied.code, 0, applied.stdout);
    assert.equal(read(path.join(l.dir('h1'), 'app.conf')), 'setting=one\n', 'h1 holds its change, but h2 could not be checked: no host changes');
    assert.equal(applied.events[0]?.type, 'run-start', 'the run starts before the plan is refused');
    const refused = planEvent(applied.events);
    assert.equal(refused?.action, 'refused');
    assert.match(refused!.message, /h2/);
  } finally {
    await l.close();
  }
});

test('--apply: the state moving between the read a change was judged by and the change itself is caught by the guard on the host: refused, exit 2, not overwritten', async () => {
  const l = await lab({ race: true });
  try {
    const planFile = await planAfterSettingChange(l);
    // h1's raced.conf is edited while its decision is made in the real run (the check pass decides first).
    writeFileSync(path.join(l.dir('h1'), 'armed'), '1');
    const applied = await l.run('--apply', planFile, '--json');
    assert.equal(applied.code, 2, applied.stdout);
    assert.equal(read(path.join(l.dir('h1'), 'raced.conf')), 'edited while deciding\n', 'the edit made after the read is not overwritten');
    const refusals = planEvent(applied.events)!.refusals;
    assert.deepEqual(refusals.map((r) => `${r.host} ${r.task}`), ['h1 raced.conf']);
    assert.match(refusals[0]!.reason, /between the read it was judged by and the change/);
    assert.equal(read(path.join(l.dir('h2'), 'raced.conf')), 'raced two\n', 'the other host goes on');
  } finally {
    await l.close();
  }
});
