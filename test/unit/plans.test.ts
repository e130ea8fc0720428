// Saved plans (#32), the parts that need no host: the versioned file
// format, the keyed digests, what a decision's digests hold for a task a
// Secret flows into, and the inputs' digests naming what changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { definePlay, ops, secret } from '../../lib/index.ts';
import { InputError } from '../../lib/shell/errors.ts';
import { PLAN_VERSION, checkPlanSeal, parsePlan, sealPlan, writePlan, type PlanFile } from '../../lib/plans/format.ts';
import { tokens } from '../../lib/ops/docker/swarm.ts';
import { inputDifferences, sourceFiles } from '../../lib/plans/inputs.ts';
import { Digester } from '../../lib/plans/keyed-digest.ts';
import { decisionDigests } from '../../lib/plans/task-digests.ts';
import type { DecisionMade } from '../../lib/runner/plan-hook.ts';
import type { Op } from '../../lib/model/op.ts';
import { Task } from '../../lib/model/task.ts';
import { leaks } from '../helpers/secret-forms.ts';

function minimalPlan(): PlanFile {
  const set = { digest: 'sha256:00', parts: {} };
  return {
    format: 'rigger-plan',
    version: PLAN_VERSION,
    id: 'a'.repeat(32),
    createdAt: '2026-12-07T00:00:00.000Z',
    playbook: 'playbooks/site.ts',
    commandNonce: 'c'.repeat(32),
    options: { tags: [], skipTags: [], allOrNothing: false },
    key: null,
    inputs: { source: set, inventory: set, variables: set },
    hosts: { h1: [{ key: '0/t1/0', play: 'p', task: 't', status: 'changed', decision: 'change', probe: 'sha256:11', change: 'sha256:22', event: 0 }] },
    events: [{ type: 'task-host', task: 't', id: 't1', host: 'h1', status: 'changed', durationMs: 1 }],
  };
}

const refusal = (text: string) => {
  try {
    parsePlan(text, 'p.json');
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err.message;
  }
  assert.fail('the plan was read');
};

test('a plan file of this version reads back as written', () => {
  const plan = minimalPlan();
  assert.deepEqual(parsePlan(JSON.stringify(plan), 'p.json'), plan);
});

test('an older or a newer plan file version is refused, saying which and what to do', () => {
  const older = refusal(JSON.stringify({ ...minimalPlan(), version: PLAN_VERSION - 1 }));
  assert.match(older, new RegExp(`^p\\.json: the plan file is format version ${PLAN_VERSION - 1}, older than the version ${PLAN_VERSION} this rigger reads: make the plan again`));
  const newer = refusal(JSON.stringify({ ...minimalPlan(), version: PLAN_VERSION + 1 }));
  assert.match(newer, new RegExp(`format version ${PLAN_VERSION + 1}, newer than the version ${PLAN_VERSION} this rigger reads: apply it with the rigger that made it`));
});

test('what is not a plan file, or a damaged one, is refused naming the file', () => {
  assert.match(refusal('{ nope'), /^p\.json: not a plan file: /);
  assert.match(refusal(JSON.stringify({ format: 'terraform' })), /not a rigger plan file/);
  assert.match(refusal(JSON.stringify({ format: 'rigger-plan' })), /has no format version/);
  const { hosts: _hosts, ...noHosts } = minimalPlan();
  assert.match(refusal(JSON.stringify(noHosts)), /damaged: hosts: /);
});

test('keyed digests: an HMAC under a key from the passphrase, never the plain sha256, the same again from the plan\'s parameters', () => {
  const { digester, params } = Digester.create('pass-one');
  const d = digester.digest('probe', 'the value');
  assert.match(d, /^hmac-sha256:[0-9a-f]{64}$/);
  assert.ok(!d.includes(createHash('sha256').update('the value').digest('hex')));
  assert.ok(!JSON.stringify(params).includes('pass-one'));
  assert.equal(Digester.forPlan(params, 'pass-one', 'p.json').digest('probe', 'the value'), d, 'the same key from the salt and the same passphrase');
  assert.notEqual(Digester.create('pass-one').digester.digest('probe', 'the value'), d, 'a new plan has a new salt');
  assert.throws(() => Digester.forPlan(params, 'pass-two', 'p.json'), /p\.json: the vault passphrase given is not the one the plan was made with/);
  assert.throws(() => Digester.forPlan(params, undefined, 'p.json'), /made with a vault passphrase/);
  assert.match(Digester.plain().digest('probe', 'the value'), /^sha256:/);
  // Parts are framed: moving a boundary changes the digest.
  assert.notEqual(digester.digest('ab', 'c'), digester.digest('a', 'bc'));
});

test('a Secret in a value is its keyed digest, or *** with no key; never its text', () => {
  const value = 'sekrit-in-a-var-42';
  const keyed = JSON.stringify(Digester.create('p').digester.canonical({ b: 1, a: secret(value) }));
  assert.match(keyed, /^\{"a":\{"secret":"hmac-sha256:[0-9a-f]{64}"\},"b":1\}$/, 'keys sorted, the Secret keyed');
  assert.deepEqual(leaks(keyed, [value]), []);
  assert.equal(JSON.stringify(Digester.plain().canonical({ a: secret(value) })), '{"a":"***"}');
});

/** A decision of a real op from a probe output, as the runner hands it to the plan hook. */
function made(op: Op<unknown, unknown>, stdout: string): DecisionMade {
  const probed = { code: 0, stdout: Buffer.from(stdout), stderr: Buffer.alloc(0), durationMs: 1 } as DecisionMade['probed'] & object;
  return { host: 'h1', task: new Task({ name: 'write', op }, undefined), op, probed, decision: op.decide(op.probe!.parse(probed)) };
}

test('a task a Secret flows into: keyed digests with a passphrase, none without (decided again at apply); a plain task gets sha256 without one', () => {
  const value = 'the-db-password-7f3a';
  const secretOp = ops.copy({ path: '/etc/app/db.conf', content: secret(value) }) as Op<unknown, unknown>;
  // The probe output of a file holding exactly the secret: its sha256 is there.
  const fileSha = createHash('sha256').update(value).digest('hex');
  const out = `\n/etc/app/db.conf\nregular file|600|root|root|${value.length}\n\n${fileSha}\n\n`;
  const without = decisionDigests(made(secretOp, out), Digester.plain());
  assert.deepEqual(without, { decision: 'ok', decidedAgain: true }, 'the file already holds the secret: ok, and no digest of what was read');
  const { digester } = Digester.create('p');
  const keyed = decisionDigests(made(secretOp, out), digester);
  assert.equal(keyed.decision, 'ok');
  assert.match(keyed.probe!, /^hmac-sha256:/);
  const toWrite = decisionDigests(made(secretOp, '\n/etc/app/db.conf\nabsent\n'), digester);
  assert.equal(toWrite.decision, 'change');
  assert.match(toWrite.change!, /^hmac-sha256:/);
  assert.equal(decisionDigests(made(secretOp, '\n/etc/app/db.conf\nabsent\n'), Digester.plain()).decidedAgain, true);
  const text = JSON.stringify([keyed, toWrite]);
  assert.deepEqual(leaks(text, [value]), [], 'no form of the secret, nor the sha256 of its file');
  assert.ok(!text.includes(fileSha));

  const plainOp = ops.copy({ path: '/etc/app/app.conf', content: 'a=1\n' }) as Op<unknown, unknown>;
  const plain = decisionDigests(made(plainOp, '\n/etc/app/app.conf\nabsent\n'), Digester.plain());
  assert.match(plain.probe ?? '', /^sha256:/);
  assert.equal(plain.decidedAgain, undefined);
  const other = decisionDigests(made(ops.copy({ path: '/etc/app/app.conf', content: 'a=2\n' }) as Op<unknown, unknown>, '\n/etc/app/app.conf\nabsent\n'), Digester.plain());
  assert.equal(other.probe, plain.probe, 'the same probe output');
  assert.notEqual(other.change, plain.change, 'another content is another change');
});

test('the source is the playbook and the files that declare its tasks; a changed or new file is named', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'plan-inputs-'));
  const role = path.join(dir, 'role.ts');
  writeFileSync(role, 'one\n');
  const play = definePlay({ name: 'p', hosts: 'all', tasks: () => [new Task({ name: 'x', op: ops.command({ argv: ['true'] }) }, { file: role, line: 3, col: 1 })] });
  const files = sourceFiles(path.join(dir, 'site.ts'), [play]);
  assert.ok(files.includes(role), files.join(', '));
  assert.ok(files.some((f) => f.endsWith('site.ts')));
  assert.ok(files.some((f) => f.endsWith('plans.test.ts')), 'the file that declares the play');

  const set = (parts: Record<string, string>) => ({ digest: JSON.stringify(parts), parts });
  const none = set({});
  const before = { source: set({ [role]: 'sha256:1' }), inventory: set({ 'inventory/hosts.yml': 'sha256:2' }), variables: set({ release: 'sha256:3' }) };
  const after = { source: set({ [role]: 'sha256:9', 'roles/new.ts': 'sha256:4' }), inventory: set({}), variables: none };
  assert.deepEqual(inputDifferences(before, after), [
    `playbook source: ${role} changed`,
    'playbook source: roles/new.ts is new',
    'inventory: inventory/hosts.yml is no longer read',
    'variables (-e): -e release is no longer read',
  ]);
  assert.deepEqual(inputDifferences(before, before), []);
});

test('--plan, --apply and --all-or-nothing: only the combinations that mean something', async () => {
  const { parseCli } = await import('../../lib/cli/args.ts');
  const o = parseCli(['--plan', 'p.json', '--all-or-nothing']);
  assert.equal(o.planFile, 'p.json');
  assert.equal(o.allOrNothing, true);
  assert.equal(parseCli(['--apply', 'p.json']).applyFile, 'p.json');
  assert.throws(() => parseCli(['--plan', 'a.json', '--apply', 'b.json']), /--plan and --apply exclude each other/);
  assert.throws(() => parseCli(['--apply', 'p.json', '--check']), /rigger plan show FILE/);
  assert.throws(() => parseCli(['--apply', 'p.json', '--all-or-nothing']), /give it with --plan/);
  // A plan covers every host from the first task; a resume starts some hosts part-way: never both.
  assert.throws(() => parseCli(['--resume', '--plan', 'p.json']), /--resume and --plan exclude each other/);
  assert.throws(() => parseCli(['--apply', 'p.json', '--resume']), /--resume and --apply exclude each other/);
});

test('a read-only op gets no digest at all (the swarm join tokens it reads); without a passphrase, a task whose probe output holds a known secret is decided again', () => {
  const worker = `SWMTKN-1-worker-${Math.random().toString(36).slice(2)}`;
  const manager = `SWMTKN-1-manager-${Math.random().toString(36).slice(2)}`;
  const out = `${worker}\n@@manager\n${manager}\n@@info\n10.0.0.1 cluster1\n`;
  const readTokens = tokens({}) as Op<unknown, unknown>;
  for (const digester of [Digester.plain(), Digester.create('p').digester]) {
    assert.deepEqual(decisionDigests(made(readTokens, out), digester), { decision: 'ok', readOnly: true }, 'never judged at apply, so nothing of its output is kept');
  }

  // A plain op whose file holds, by hand, a value known to be secret: the probe reads that content for the diff.
  const value = `hand-placed-${Math.random().toString(36).slice(2)}`;
  secret(value);
  const old = Buffer.from(`password=${value}\n`);
  const probe = `\n/etc/app/app.conf\nregular file|644|root|root|${old.length}\n\n${createHash('sha256').update(old).digest('hex')}\n${old.toString('base64')}\n`;
  const op = ops.copy({ path: '/etc/app/app.conf', content: 'password=elsewhere\n' }) as Op<unknown, unknown>;
  const plain = decisionDigests(made(op, probe), Digester.plain());
  assert.deepEqual(plain, { decision: 'change', decidedAgain: true }, 'no unkeyed digest of a probe output or diff that holds a secret');
  assert.deepEqual(leaks(JSON.stringify(plain), [value]), []);
  assert.match(decisionDigests(made(op, probe), Digester.create('p').digester).probe!, /^hmac-sha256:/, 'keyed, it is digested as any other');
});

test('a plan file is replaced whole (a temp file renamed over it, mode 0600), never rewritten in place; a failed write leaves no temp file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'plan-write-'));
  const file = path.join(dir, 'p.json');
  writePlan(file, minimalPlan());
  linkSync(file, path.join(dir, 'old.json'));
  writePlan(file, { ...minimalPlan(), id: 'b'.repeat(32) });
  assert.equal(parsePlan(readFileSync(path.join(dir, 'old.json'), 'utf8'), 'old.json').id, 'a'.repeat(32), 'a reader holding the old file still reads the whole old plan');
  assert.equal(parsePlan(readFileSync(file, 'utf8'), 'p.json').id, 'b'.repeat(32));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  mkdirSync(path.join(dir, 'taken.json'));
  assert.throws(() => writePlan(path.join(dir, 'taken.json'), minimalPlan()));
  assert.deepEqual(readdirSync(dir).sort(), ['old.json', 'p.json', 'taken.json'], 'no temp file left behind');
});

test('with a passphrase the plan file is sealed: an edited event (what plan show prints) or change digest (what --apply judges) is refused', () => {
  const { digester, params } = Digester.create('p');
  const sealed = sealPlan({ ...minimalPlan(), key: params }, digester);
  assert.match(sealed.mac ?? '', /^hmac-sha256:[0-9a-f]{64}$/);
  const text = JSON.stringify(sealed);
  assert.doesNotThrow(() => checkPlanSeal(parsePlan(text, 'p.json'), digester, 'p.json'));
  const editedEvent = JSON.parse(text) as PlanFile;
  (editedEvent.events[0] as { msg?: string }).msg = 'nothing to see';
  assert.throws(() => checkPlanSeal(parsePlan(JSON.stringify(editedEvent), 'p.json'), digester, 'p.json'), /p\.json: .*altered/);
  const editedChange = JSON.parse(text) as PlanFile;
  editedChange.hosts.h1![0]!.change = `hmac-sha256:${'0'.repeat(64)}`;
  assert.throws(() => checkPlanSeal(parsePlan(JSON.stringify(editedChange), 'p.json'), digester, 'p.json'), /altered/);
  const unsealed = JSON.parse(text) as PlanFile;
  delete unsealed.mac;
  assert.throws(() => checkPlanSeal(parsePlan(JSON.stringify(unsealed), 'p.json'), digester, 'p.json'), /altered|no seal/);
});
