// What the lab's kernel cannot carry, refused on the lab before anything
// changes: its kernel has neither ESP nor IPVS (LAB.md), so preflight.ts with
// the real cluster's `overlay_encrypted: true` must fail on every swarm node,
// naming ESP and the node, and leave every node as it was; site.ts must
// stop every node at its first task, changing nothing.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';
import { ensureLab } from '../helpers/lab.ts';
import { stateHash } from '../helpers/node.ts';

const NODES = ['gateway', 'ai', 'data', 'cicd'];
let inv: string;
before(() => {
  inv = ensureLab();
});

const preflight = (extra: string[] = []) => runCli(['playbooks/preflight.ts', '-i', inv, ...extra], {}, 5 * 60_000);

test('preflight refuses overlay_encrypted: true on the lab, naming ESP and each node, and changes nothing', async () => {
  const hashes = await Promise.all(NODES.map((n) => stateHash(inv, n)));
  const r = await preflight(['-e', JSON.stringify({ overlay_encrypted: true })]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  for (const n of NODES) assert.match(r.stdout, new RegExp(`^failed \\(ignored\\): \\[${n}\\] kernel .*: ${n}: kernel \\S+ lacks ESP \\(CONFIG_INET_ESP is not set in /proc/config\\.gz\\), needed by encrypted overlay networks`, 'm'), `${n}:\n${r.stdout}`);
  // The lab's own settings (no encryption, host-mode ports, dnsrr) need neither feature.
  const plain = await preflight();
  for (const n of NODES) assert.match(plain.stdout, new RegExp(`^ok: \\[${n}\\] kernel .*pass: neither ESP nor IPVS needed`, 'm'), `${n}:\n${plain.stdout}`);
  assert.deepEqual(await Promise.all(NODES.map((n) => stateHash(inv, n))), hashes, 'preflight changed a node');
});

test('site.ts with overlay_encrypted: true stops every lab node at its first task and changes nothing', async () => {
  const hashes = await Promise.all(NODES.map((n) => stateHash(inv, n)));
  const r = await runCli(['playbooks/site.ts', '-i', inv, '-e', JSON.stringify({ overlay_encrypted: true })], {}, 10 * 60_000);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  for (const n of NODES) {
    const lines = r.stdout.split('\n').filter((l) => new RegExp(`^(ok|changed|failed|skipping): \\[${n}\\]`).test(l));
    assert.equal(lines.length, 1, `${n} ran one task:\n${r.stdout}`);
    assert.match(lines[0]!, new RegExp(`^failed: \\[${n}\\] kernel carries the swarm settings .*${n}: kernel \\S+ lacks ESP`));
  }
  assert.deepEqual(await Promise.all(NODES.map((n) => stateHash(inv, n))), hashes, 'site.ts changed a node');
});
