// The DOCKER-USER op (lib/ops/firewall/docker-user.ts): its decisions from
// what a real iptables printed, and the six steps run for real, with the real
// iptables and the real file writer, in a network and mount namespace of
// their own (test/helpers/netns-sandbox.ts): this machine's firewall and /etc
// are never read or changed.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ops } from '../../lib/index.ts';
import { definePlay } from '../../lib/model/play.ts';
import type { Op } from '../../lib/model/op.ts';
import { DOCKER_USER_FILE, dockerUserRules, parseDockerUser, type PortLimit } from '../../lib/ops/firewall/docker-user.ts';
import { localInventory, runPlays } from '../helpers/run.ts';
import { netnsSandbox, type Sandbox } from '../helpers/netns-sandbox.ts';

const LAN: PortLimit[] = [
  { port: 8000, proto: 'tcp', from: ['192.168.0.0/16'] },
  { port: 11434, proto: 'tcp', from: ['192.168.0.0/16', '10.1.2.3'] },
];
const WIDER: PortLimit[] = [...LAN, { port: 5000, proto: 'tcp', from: ['192.168.5.0/24'] }];

/** `iptables -S DOCKER-USER` of a chain loaded from `text`, printed by the real iptables in a network namespace of its own. */
function liveAfterLoading(text: string): string {
  const r = spawnSync('unshare', ['-n', '/bin/sh', '-c', 'iptables-restore --noflush && iptables -S DOCKER-USER'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The text the op loads for these limits: what it writes to its file, read back from a decision that writes it. */
function opText(limits: PortLimit[]): string {
  const d = ops.dockerUser({ limits, persist: 'unit' }).decide(parseDockerUser('@@persisted\n@@absent\n@@unit\n'));
  assert.ok(d.kind === 'change' && d.diff?.kind === 'text');
  return d.diff.after;
}

const decide = (op: Op<unknown, any>, probeOutput: string) => {
  assert.deepEqual(op.problems, []);
  return op.decide(parseDockerUser(probeOutput));
};

test('decisions from what iptables printed: a loaded chain is left alone; a flushed one, or another rule set, is loaded again', () => {
  const text = opText(LAN);
  const live = liveAfterLoading(text);
  assert.match(live, /--ctorigdstport 8000 -j REJECT --reject-with tcp-reset/);
  // The probe's output once everything is in place: read back through a first decision's own unit text.
  const first = ops.dockerUser({ limits: LAN, persist: 'unit' }).decide(parseDockerUser('@@persisted\n@@absent\n@@unit\n'));
  assert.ok(first.kind === 'change');
  const unitWrite = first.commands!.map((c) => c.display()).join('\n');
  assert.match(unitWrite, /systemctl daemon-reload && systemctl enable rigger-docker-user\.service/);
  assert.match(first.msg ?? '', /write \/etc\/iptables\/rigger-docker-user\.rules/);
  assert.match(first.msg ?? '', /load 2 port limits into DOCKER-USER \(8000\/tcp from 192\.168\.0\.0\/16; 11434\/tcp from 192\.168\.0\.0\/16, 10\.1\.2\.3\)/);

  // iptables prints its own spelling (RELATED,ESTABLISHED; 10.1.2.3/32): the op knows its chain by its tag, not by the text.
  assert.ok(!live.includes('ESTABLISHED,RELATED') && live.includes('10.1.2.3/32'), live);
  const persisted = (unit: string) => `${live}@@persisted\n${text}@@unit\n${unit}`;
  const withUnit = decide(ops.dockerUser({ limits: LAN, persist: 'unit' }), persisted(''));
  // Only the unit is missing here: nothing is written or loaded but the unit.
  assert.ok(withUnit.kind === 'change' && !/write \/etc\/iptables|load/.test(withUnit.msg ?? ''), withUnit.kind === 'change' ? withUnit.msg : withUnit.kind);

  // After a dockerd restart that lost the chain's rules (Docker leaves a lone RETURN): loaded again, from the file.
  const flushed = liveAfterLoading('*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -j RETURN\nCOMMIT\n');
  const again = decide(ops.dockerUser({ limits: LAN, persist: 'ufw' }), `${flushed}@@persisted\n@@absent\n@@unit\n`);
  assert.ok(again.kind === 'change' && /load 2 port limits/.test(again.msg ?? ''));
  // Another rule set loaded (the inventory changed): loaded again.
  const other = decide(ops.dockerUser({ limits: WIDER, persist: 'unit' }), persisted(''));
  assert.ok(other.kind === 'change' && /load 3 port limits/.test(other.msg ?? '') && /write/.test(other.msg ?? ''));
  // One of our rules deleted by hand: loaded again.
  const lessOne = live.split('\n').filter((l) => !l.includes('-s 10.1.2.3/32')).join('\n');
  assert.ok(decide(ops.dockerUser({ limits: LAN, persist: 'unit' }), `${lessOne}@@persisted\n${text}@@unit\n`).kind === 'change');
});

test('no limit on a node that never had one: nothing to do, the ports stay as Docker publishes them', () => {
  const docker = liveAfterLoading('*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -j RETURN\nCOMMIT\n');
  assert.equal(decide(ops.dockerUser({ limits: [], persist: 'unit' }), `${docker}@@persisted\n@@absent\n@@unit\n`).kind, 'ok');
  assert.equal(decide(ops.dockerUser({ limits: [], persist: 'ufw' }), `${docker}@@persisted\n*filter\nCOMMIT\n@@unit\n`).kind, 'ok');
  // Before Docker is installed (check mode of a fresh host): no iptables, nothing planned either.
  assert.equal(decide(ops.dockerUser({ limits: [], persist: 'unit' }), '@@missing\n').kind, 'ok');
});

test('the rule text: replies first, the node\'s own bridges, then per port its networks and a refusal; parsed by iptables-restore', () => {
  const text = dockerUserRules([{ port: 53, proto: 'udp', from: ['10.0.0.0/8'] }, ...LAN], ['docker0', 'docker_gwbridge', 'br-+']);
  const live = liveAfterLoading(text).split('\n').filter((l) => l.startsWith('-A'));
  assert.match(live[0]!, /--ctstate RELATED,ESTABLISHED -j RETURN/);
  assert.deepEqual(live.slice(1, 4), ['-A DOCKER-USER -i docker0 -j RETURN', '-A DOCKER-USER -i docker_gwbridge -j RETURN', '-A DOCKER-USER -i br-+ -j RETURN']);
  assert.ok(live.includes('-A DOCKER-USER -s 10.0.0.0/8 -p udp -m conntrack --ctorigdstport 53 -j RETURN'));
  assert.ok(live.includes('-A DOCKER-USER -p udp -m conntrack --ctorigdstport 53 -j REJECT --reject-with icmp-port-unreachable'), 'udp is refused with an ICMP port unreachable');
  const at = (needle: string) => live.findIndex((l) => l.includes(needle));
  assert.ok(at('-s 192.168.0.0/16 -p tcp -m conntrack --ctorigdstport 8000 -j RETURN') < at('--ctorigdstport 8000 -j REJECT'), 'the allowed networks before the refusal');
  assert.equal(live.at(-1), '-A DOCKER-USER -j RETURN');
});

// ---- the six steps, for real, in the sandbox -------------------------------------------

let box: Sandbox;
before(async () => {
  box = await netnsSandbox();
});
after(() => box?.close());

const inv = () => localInventory(['sandbox']);

async function step(inventory: string, op: () => Op<unknown, any>, check: boolean) {
  const play = definePlay({ name: 'docker-user', hosts: 'sandbox', tasks: ({ task }) => [task({ name: 'op under test', op })] });
  const o = await runPlays(inventory, [play], { check, diff: true });
  const ev = o.events.find((e) => e.type === 'task-host');
  assert.ok(ev && ev.type === 'task-host');
  return ev;
}

const chain = () => box.run('iptables -S DOCKER-USER 2>/dev/null').stdout;
const state = () => box.run(`iptables-save | grep -v '^#'; find /etc -type f | sort | xargs sha256sum`).stdout;

test('six steps with its own file and unit: check changes nothing, apply loads and persists, again is ok; a lost chain comes back from the file', async () => {
  const i = inv();
  const expect = async (n: number, limits: PortLimit[], check: boolean, status: string) => {
    const before = state();
    const ev = await step(i, () => ops.dockerUser({ limits, persist: 'unit' }), check);
    assert.equal(ev.status, status, `step ${n}: ${ev.msg ?? ''}`);
    if (check) assert.equal(state(), before, `step ${n}: check mode changed the sandbox`);
  };
  await expect(1, LAN, true, 'changed');
  assert.equal(chain(), '', 'no DOCKER-USER chain yet');
  await expect(2, LAN, false, 'changed');
  assert.match(chain(), /-A DOCKER-USER -s 192\.168\.0\.0\/16 -p tcp -m conntrack --ctorigdstport 8000 -j RETURN\n-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8000 -j REJECT --reject-with tcp-reset/);
  assert.equal(box.run(`cat ${DOCKER_USER_FILE}`).code, 0, 'persisted');
  assert.ok(box.systemctlCalls().some((c) => c === 'enable rigger-docker-user.service'), box.systemctlCalls().join('\n'));
  await expect(3, LAN, false, 'ok');
  await expect(4, LAN, true, 'ok');
  await expect(5, WIDER, true, 'changed');
  assert.doesNotMatch(chain(), /ctorigdstport 5000/);
  await expect(6, WIDER, false, 'changed');
  assert.match(chain(), /-A DOCKER-USER -s 192\.168\.5\.0\/24 -p tcp -m conntrack --ctorigdstport 5000 -j RETURN/);
  const loaded = chain();

  // A reboot or a dockerd restart that left Docker's lone RETURN: the unit's own command restores the chain as it was.
  box.run('iptables -F DOCKER-USER && iptables -A DOCKER-USER -j RETURN');
  const unit = box.run('cat /etc/systemd/system/rigger-docker-user.service').stdout;
  assert.match(unit, /Before=network-pre\.target docker\.service/);
  const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!.replace(/^\/bin\/sh -c '(.*)'$/, '$1');
  assert.equal(box.run(exec).code, 0, exec);
  assert.equal(chain(), loaded);
  await expect(7, WIDER, false, 'ok');

  // The limits taken out of the inventory: the chain is Docker's again, the file and the unit gone.
  await expect(8, [], false, 'changed');
  assert.equal(chain(), '-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n');
  assert.notEqual(box.run(`test -e ${DOCKER_USER_FILE}`).code, 0);
  assert.notEqual(box.run('test -e /etc/systemd/system/rigger-docker-user.service').code, 0);
  await expect(9, [], false, 'ok');
});

// A UFW host's after.rules, as Debian's ufw package ships it (its filter part).
const AFTER_RULES = `#
# rules.input-after
#
*filter
:ufw-after-input - [0:0]
:ufw-after-output - [0:0]
:ufw-after-forward - [0:0]
# End required lines

-A ufw-after-input -p udp --dport 137 -j ufw-skip-to-policy-input
COMMIT
`;

test("with UFW: the block in after.rules beside UFW's own lines, loaded now and by every ufw reload", async () => {
  box.run('iptables -F DOCKER-USER 2>/dev/null; iptables -N ufw-skip-to-policy-input 2>/dev/null; mkdir -p /etc/ufw');
  box.run(`cat > /etc/ufw/after.rules <<'EOF'\n${AFTER_RULES}EOF`);
  const i = inv();
  const before = state();
  assert.equal((await step(i, () => ops.dockerUser({ limits: LAN, persist: 'ufw' }), true)).status, 'changed');
  assert.equal(state(), before, 'check mode changed nothing');
  const applied = await step(i, () => ops.dockerUser({ limits: LAN, persist: 'ufw' }), false);
  assert.equal(applied.status, 'changed', applied.msg);
  const file = box.run('cat /etc/ufw/after.rules').stdout;
  assert.ok(file.startsWith(AFTER_RULES), "UFW's own lines kept");
  assert.match(file, /# BEGIN RIGGER DOCKER-USER\n\*filter\n:DOCKER-USER - \[0:0\]\n[^]*COMMIT\n# END RIGGER DOCKER-USER\n$/);
  assert.match(chain(), /--ctorigdstport 11434 -j REJECT/);
  assert.equal((await step(i, () => ops.dockerUser({ limits: LAN, persist: 'ufw' }), false)).status, 'ok');
  // What `ufw reload` does with after.rules (iptables-restore -n): the chain comes back the same.
  const loaded = chain();
  box.run('iptables -F DOCKER-USER');
  assert.equal(box.run('iptables-restore --noflush < /etc/ufw/after.rules').code, 0);
  assert.equal(chain(), loaded);
  assert.equal((await step(i, () => ops.dockerUser({ limits: LAN, persist: 'ufw' }), false)).status, 'ok');
});
