import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { sh } from '../../lib/shell/command.ts';
import { IMAGE, LABEL, NETWORK } from '../../scripts/lab/config.ts';
import { REHEARSAL_PORTS_FROM } from '../../scripts/lab/rehearsal.ts';
import { convergedRehearsal } from '../helpers/rehearsal.ts';
import { onNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/data-node.ts';

// Issue 29 item 3, acceptance 5: a port Swarm publishes with a `from` limit
// (inventory/homelab.yml's published_ports, 172.30.99.0/28 in the rehearsal)
// answers inside the limit and refuses a lab container outside it. Docker's
// DNAT takes published ports past the node's INPUT firewall, so the limit is
// in DOCKER-USER (roles/published-ports). The rehearsal publishes in host
// mode (no IPVS on this kernel): the ingress mesh's ports go through the same
// FORWARD -> DOCKER-USER path, shown here only by the rules read back.
let inv: string;
before(async () => {
  inv = await convergedRehearsal();
});

const AI = '172.30.99.11';
/** On rigger-lab, outside REHEARSAL_PORTS_FROM (.0-.15): a client the limit must refuse. */
const OUTSIDE_IP = '172.30.99.99';
const PROBE = 'rigger-lab-swarm-from-probe';

const node = async (host: string, script: string) => onNode(inv, host, sh`sh -c ${script}`);

/** curl from a throw-away container of the lab's image at OUTSIDE_IP: its exit code and the HTTP status it got. */
function fromOutside(url: string): { code: number | null; status: string; stderr: string } {
  const r = spawnSync('docker', ['run', '--rm', '--name', PROBE, '--label', LABEL, '--network', NETWORK, '--ip', OUTSIDE_IP, '--entrypoint', 'curl', IMAGE, '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', url], { encoding: 'utf8' });
  return { code: r.status, status: r.stdout.trim(), stderr: r.stderr };
}

after(async () => {
  spawnSync('docker', ['rm', '-f', PROBE], { stdio: 'ignore' });
  // The rules as site.ts left them, whatever a failed test did to them (the next suite reuses this converge).
  await node('ai', 'systemctl restart rigger-docker-user.service');
});

test("the ai node's DOCKER-USER holds the inventory's limits for SGLang's 8000 and Ollama's 11434, behind FORWARD's first jump", async () => {
  const chain = (await node('ai', 'iptables -S DOCKER-USER')).stdout;
  const backend = (await node('ai', 'iptables -V')).stdout.trim();
  for (const port of [8000, 11434]) {
    assert.ok(chain.includes(`-A DOCKER-USER -s ${REHEARSAL_PORTS_FROM} -p tcp -m conntrack --ctorigdstport ${port} -j RETURN`), `${port} allowed from the limit (${backend}):\n${chain}`);
    assert.ok(chain.includes(`-A DOCKER-USER -p tcp -m conntrack --ctorigdstport ${port} -j REJECT --reject-with tcp-reset`), `${port} refused otherwise:\n${chain}`);
  }
  const lines = chain.split('\n').filter((l) => l.startsWith('-A'));
  assert.match(lines[1] ?? '', /--ctstate RELATED,ESTABLISHED -j RETURN/, 'replies pass first (after the tag rule)');
  // LangGraph's 8888 has no from: left as Docker publishes it.
  assert.ok(!chain.includes('--ctorigdstport 8888'), chain);
  // Docker jumps to DOCKER-USER before its own chains (moby/libnetwork#1827 was the opposite).
  const forward = (await node('ai', 'iptables -S FORWARD')).stdout.split('\n').filter((l) => l.startsWith('-A FORWARD'));
  assert.equal(forward[0], '-A FORWARD -j DOCKER-USER', forward.join('\n'));
  // The registry's 5000 (host mode on cicd) is limited on cicd; the gateway limits nothing.
  assert.match((await node('cicd', 'iptables -S DOCKER-USER')).stdout, /-s 172\.30\.99\.0\/28 -p tcp -m conntrack --ctorigdstport 5000 -j RETURN/);
  assert.doesNotMatch((await node('gateway', 'iptables -S DOCKER-USER')).stdout, /ctorigdstport/);
  // Back at boot, before docker.service.
  assert.equal((await node('ai', 'systemctl is-enabled rigger-docker-user.service')).stdout.trim(), 'enabled');
});

test('a published port with a from limit answers inside it and refuses a lab container outside it (acceptance 5)', async () => {
  // Inside: the gateway node (172.30.99.10) gets Ollama's answer.
  const inside = await node('gateway', `curl -sS -o /dev/null -w '%{http_code}' --max-time 10 http://${AI}:11434/api/tags`);
  assert.equal(inside.stdout.trim(), '200', inside.stderr);
  // Outside: refused at once (the REJECT's TCP reset: curl's 7, could not connect), on both limited ports.
  for (const port of [11434, 8000]) {
    const out = fromOutside(`http://${AI}:${port}/`);
    assert.equal(out.code, 7, `${port} from ${OUTSIDE_IP}: exit ${out.code}, HTTP ${out.status}, ${out.stderr}`);
  }
  // The same container reaches a port without a limit on the same node: it is the limit that refuses, not the network.
  const open = fromOutside(`http://${AI}:8888/health`);
  assert.equal(open.code, 0, open.stderr);
  assert.equal(open.status, '200');
});

test('rules lost from the live chain come back from the unit that restores them at boot, and refuse again', async () => {
  await node('ai', 'iptables -F DOCKER-USER && iptables -A DOCKER-USER -j RETURN');
  // Without the rules the port is open to the outside container: what the limit closes.
  assert.equal(fromOutside(`http://${AI}:11434/api/tags`).status, '200');
  await node('ai', 'systemctl restart rigger-docker-user.service');
  await waitFor('the limit restored', async () => (await node('ai', 'iptables -S DOCKER-USER')).stdout.includes('--ctorigdstport 11434 -j REJECT'));
  assert.equal(fromOutside(`http://${AI}:11434/api/tags`).code, 7);
});
