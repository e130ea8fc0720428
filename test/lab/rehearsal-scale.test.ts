import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { raw, sh } from '../../lib/shell/command.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';
import { onNode } from '../helpers/node.ts';

// The operators' fallback when the GPU is busy (000, 5.4: SGLang to 0,
// Ollama to 1), made an operator action (issue 29, item 13; acceptance 7):
// scale.ts records it on the services, site.ts keeps it (even when it
// deploys the ai stack again), the daily check reports it as intended with
// its reason, and --clear puts the stack file's replicas back (1 and 1:
// stacks/ai.yml gives neither service a count, so Docker's default).
let inv: string;
before(async () => {
  inv = await convergedRehearsal();
});
// Whatever failed, the rehearsal is left as the inventory has it for the suites after this one.
after(async () => {
  await gateway(`systemctl stop rigger-scale-events 2>/dev/null; rm -f ${EVENTS_LOG}`);
  await onRehearsal('playbooks/scale.ts', ['--clear']);
});

const gateway = async (script: string) => (await onNode(inv, 'gateway', sh`${raw(script)}`)).stdout;
const replicas = async () => Object.fromEntries((await gateway(`docker service ls --filter name=ai_ --format '{{.Name}} {{.Replicas}}'`)).trim().split('\n').map((l) => l.split(' ')));
// SGLang's service events while site.ts runs, each with its attributes (Docker names a count change replicas.old/.new).
const EVENTS_LOG = '/tmp/rigger-scale-events.log';
const watchSglang = () =>
  gateway(`systemctl stop rigger-scale-events 2>/dev/null; rm -f ${EVENTS_LOG}; systemd-run --unit rigger-scale-events sh -c "exec docker events --filter type=service --filter service=ai_sglang --format '{{json .Actor.Attributes}}' > ${EVENTS_LOG}"`);
const sglangEvents = async () => {
  const text = await gateway(`systemctl stop rigger-scale-events; cat ${EVENTS_LOG}`);
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, string>);
};

test('scale.ts ai_sglang=0 ai_ollama=1 --reason "GPU busy" survives site.ts, the daily check calls it intended, --clear restores the file replicas', async () => {
  const scaled = await onRehearsal('playbooks/scale.ts', ['ai_sglang=0', 'ai_ollama=1', '--reason', 'GPU busy']);
  assert.equal(scaled.code, 0, `scale.ts:\n${scaled.stdout}\n${scaled.stderr}`);
  assert.equal((await replicas()).ai_sglang, '0/0');
  const labels = JSON.parse(await gateway(`docker service inspect --format '{{json .Spec.Labels}}' ai_sglang`)) as Record<string, string>;
  assert.equal(labels['rigger.scale.replicas'], '0');
  assert.equal(labels['rigger.scale.reason'], 'GPU busy');
  assert.match(labels['rigger.scale.since'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const listed = await onRehearsal('playbooks/scale.ts');
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /ai_sglang +0 +\S+ +\S+ +GPU busy/);

  // Without the stack's record on the manager, site.ts deploys the ai stack again (`docker stack deploy`, which sets
  // every replica count from the file it is given): the scale must be in that file, not restored after it.
  await watchSglang();
  await gateway('rm -f /var/lib/rigger/stacks/ai.json');
  const site = await onRehearsal('playbooks/site.ts');
  assert.equal(site.code, 0, `site.ts with the scale:\n${site.stdout.slice(-4000)}\n${site.stderr}`);
  assert.deepEqual(await replicas(), { ai_sglang: '0/0', ai_ollama: '1/1', ai_langgraph: '1/1' });
  const events = await sglangEvents();
  assert.ok(events.length > 0, 'the deploy updated ai_sglang (its events were seen)');
  for (const e of events) assert.ok(e['replicas.new'] === undefined || e['replicas.new'] === '0', `SGLang's count was never set to anything but 0: ${JSON.stringify(e)}`);
  assert.ok((await gateway('cat /var/lib/rigger/stacks/ai.json')).length > 0, 'site.ts deployed the ai stack (its record is back)');

  const daily = await onRehearsal('playbooks/daily-check.ts', [
    // Two readings the lab cannot pass whatever is scaled: the real names' certificates are not reachable from it, and
    // the backup sets' age and copies (this suite may start from a fresh converge, with no set taken yet). Everything
    // else is read as on the real cluster.
    '-e',
    '{"daily_tls_endpoints": [], "backup_items": []}',
  ]);
  assert.equal(daily.code, 0, `daily-check.ts:\n${daily.stdout}\n${daily.stderr}`);
  // PASS, or WARN where a task failed in the last 24 h (a restart, counted as for any service): never FAIL.
  assert.match(daily.stdout, /(PASS|WARN) +service +ai_sglang +intended: scaled to 0 by \S+ since \S+: GPU busy; 0\/0 replicas/);
  assert.match(daily.stdout, /(PASS|WARN) +service +ai_ollama +intended: scaled to 1 by \S+ since \S+: GPU busy; 1\/1 replicas/);

  const cleared = await onRehearsal('playbooks/scale.ts', ['--clear']);
  assert.equal(cleared.code, 0, `scale.ts --clear:\n${cleared.stdout}\n${cleared.stderr}`);
  assert.deepEqual(await replicas(), { ai_sglang: '1/1', ai_ollama: '1/1', ai_langgraph: '1/1' }, 'the waits of --clear end when SGLang is back');
  assert.doesNotMatch(await gateway(`docker service inspect --format '{{json .Spec.Labels}}' ai_sglang ai_ollama`), /rigger\.scale/);
  // Cleared is converged: the next site.ts has nothing to put back (and the suites after this one reuse the rehearsal).
  const check = await onRehearsal('playbooks/site.ts', ['--check', '--json']);
  assert.equal(check.code, 0, check.stderr);
  assert.doesNotMatch(check.stdout, /"status":"changed"/, 'site.ts --check after --clear');
});
