import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ops } from '../../lib/index.ts';
import type { Op } from '../../lib/model/op.ts';
import { parseDockerInfo } from '../../lib/facts/docker.ts';
import { initCommand, swarmOf } from '../../lib/ops/docker/swarm.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { typedVars } from '../../lib/runner/host-vars.ts';
import { swarmDefaults } from '../../roles/swarm/index.ts';
import { HOMELAB_VAULT_PASSWORD } from '../../scripts/lab/rehearsal.ts';

// The operators' swarm certificates live a year (../shared/operators/000
// section 4.4: --cert-expiry 8760h): a new swarm is initialised with it, an
// existing one whose expiry differs is updated, once.

const HOUR_NS = 3600 * 1e9;
/** `docker info` of an engine, as the dockerInfo fact reads it, through the op's own parser. */
const engine = (swarm: Record<string, unknown> | undefined) =>
  swarmOf({ code: 0, stdout: Buffer.from(JSON.stringify({ ServerVersion: '27.3.1', Runtimes: { runc: {} }, ...(swarm ? { Swarm: swarm } : {}) })), stderr: Buffer.alloc(0) } as never);
const manager = (expiryHours?: number) =>
  engine({ LocalNodeState: 'active', NodeID: 'n1', NodeAddr: '192.168.1.10', ControlAvailable: true, Managers: 1, Nodes: 4, Cluster: { ID: 'c0ffee', ...(expiryHours ? { Spec: { CAConfig: { NodeCertExpiry: expiryHours * HOUR_NS } } } : {}) } });
const decide = (op: Op<unknown, any>, state: unknown) => {
  assert.deepEqual(op.problems, []);
  return op.decide(state);
};
const init = (certExpiry?: string) => ops.docker.swarm.init({ advertiseAddr: '192.168.1.10', ...(certExpiry ? { certExpiry } : {}) });

test("docker info's node certificate expiry is read in seconds, and absent where the engine does not report it", () => {
  assert.equal(parseDockerInfo(JSON.stringify({ ServerVersion: '27.3.1', Swarm: { LocalNodeState: 'active', Cluster: { ID: 'c', Spec: { CAConfig: { NodeCertExpiry: 2160 * HOUR_NS } } } } })).swarm.certExpirySeconds, 2160 * 3600);
  assert.equal('certExpirySeconds' in parseDockerInfo(JSON.stringify({ ServerVersion: '27.3.1', Swarm: { LocalNodeState: 'active', Cluster: { ID: 'c' } } })).swarm, false);
});

test('a new swarm is initialised with --cert-expiry', () => {
  const d = decide(init('8760h'), engine({ LocalNodeState: 'inactive' }));
  assert.equal(d.kind, 'change');
  assert.match(d.kind === 'change' ? d.msg : '', /node certificates valid 8760h/);
  assert.match(initCommand({ advertiseAddr: '192.168.1.10', certExpiry: '8760h' }).display(), /^docker swarm init --advertise-addr 192\.168\.1\.10 +--cert-expiry 8760h >\/dev\/null$/);
  assert.doesNotMatch(initCommand({ advertiseAddr: '192.168.1.10' }).display(), /cert-expiry/);
});

test("an existing swarm with Docker's 90 days is updated to the operators' year, with a diff; then it is ok", () => {
  const d = decide(init('8760h'), manager(2160));
  assert.equal(d.kind, 'change');
  if (d.kind !== 'change') return;
  assert.deepEqual((d.commands ?? []).map((c) => c.display()), ['docker swarm update --cert-expiry 8760h >/dev/null']);
  assert.deepEqual(d.diff, { kind: 'summary', lines: ['CAConfig.NodeCertExpiry: 2160h -> 8760h'] });
  // Check mode reports the swarm it would keep, nothing run.
  assert.deepEqual(d.checkResult, { nodeId: 'n1', clusterId: 'c0ffee', isManager: true });
  assert.equal(decide(init('8760h'), manager(8760)).kind, 'ok', 'idempotent: the same expiry is left alone');
  assert.equal(decide(init('8760h'), manager()).kind, 'ok', 'an engine that does not report its spec is not updated blindly');
  assert.equal(decide(init(), manager(2160)).kind, 'ok', 'no expiry asked: the swarm is left as it is');
  // Another spelling of the same duration is the same.
  assert.equal(decide(init('525600m'), manager(8760)).kind, 'ok');
});

test("a worker is not updated, and a duration Docker would refuse is a parameter problem", () => {
  const worker = engine({ LocalNodeState: 'active', NodeID: 'n2', ControlAvailable: false, Cluster: { ID: 'c0ffee' } });
  assert.equal(decide(init('8760h'), worker).kind, 'fail');
  assert.match(ops.docker.swarm.init({ advertiseAddr: '10.0.0.1', certExpiry: '1y' }).problems[0]!.message, /duration/);
});

test("the swarm role's default is the operators' 8760h, for the real cluster's inventory too", async () => {
  assert.equal(swarmDefaults.parse({}).swarm_cert_expiry, '8760h');
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  assert.equal(typedVars(swarmDefaults, inv.varsFor('gateway.vibe.local'), 'swarm', 'gateway.vibe.local').swarm_cert_expiry, '8760h');
  assert.throws(() => swarmDefaults.parse({ swarm_cert_expiry: '365d' }), /duration/);
});
