import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay, ops } from '../../lib/index.ts';
import { offsiteConfig } from '../../lib/backup/config.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { IMAGE, LAB_REMOTE, LABEL, NODES } from '../../scripts/lab/config.ts';
import { HOMELAB_VAULT_PASSWORD, rehearsalInventoryText } from '../../scripts/lab/rehearsal.ts';
import { ensureLab, lab, resetLab } from '../helpers/lab.ts';
import { runPlays, scratchDir } from '../helpers/run.ts';

let inventory: string;
// Fresh nodes, whatever the suite before left (the suites run in file-name
// order and most leave a converged lab behind).
before(() => {
  inventory = ensureLab();
  resetLab();
});

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

test('four nodes answer over SSH with the lab key and pinned host keys, each its own host with systemd and sshd', async () => {
  const play = definePlay({
    name: 'inspect',
    hosts: 'all',
    tasks: ({ task }) => [
      task({ name: 'facts', op: ops.shell({ script: 'hostname; systemctl is-system-running; systemctl is-active ssh; cat /etc/machine-id; command -v docker || echo no-docker', readOnly: true }) }),
    ],
  });
  // strict host key checking (the runner's default) against the pinned keys in .lab/known_hosts
  const o = await runPlays(inventory, [play]);
  assert.equal(o.summary.exitCode, 0);
  const ids = new Set<string>();
  for (const n of NODES) {
    const out = (o.runner.sessions.get(n.name)!.results.values().next().value!.result as { stdout: string }).stdout.trim().split('\n');
    assert.equal(out[0], n.name);
    assert.equal(out[1], 'running');
    assert.equal(out[2], 'active');
    assert.equal(out[4], 'no-docker', 'nodes start without Docker');
    ids.add(out[3]!);
  }
  assert.equal(ids.size, 4, 'each node has its own machine id');
});

test('status prints every node; up on a running lab is a no-op', () => {
  const s = lab(['status']);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  for (const n of NODES) assert.match(s.stdout, new RegExp(`^${n.name}\\s+${n.ip.replace(/\./g, '\\.')}\\s+running\\s+running\\s+active\\s+ok`, 'm'));
  const before = docker('ps', '-q', '--filter', `label=${LABEL}`).split('\n').sort();
  const up = lab(['up']);
  assert.match(up.stdout, /nothing to do/);
  assert.deepEqual(docker('ps', '-q', '--filter', `label=${LABEL}`).split('\n').sort(), before, 'same containers');
});

test('apt-get install docker.io followed by docker run works inside a node', async () => {
  const play = definePlay({
    name: 'docker in a node',
    hosts: 'cicd',
    tasks: ({ task }) => [
      task({
        name: 'docker run',
        op: ops.shell({
          // No registry here: the image is made in the node from its own dash and libc.
          script: [
            'export DEBIAN_FRONTEND=noninteractive',
            'apt-get update -qq && apt-get install -y -qq docker.io >/dev/null',
            'tar -C / -ch bin/dash lib/x86_64-linux-gnu/libc.so.6 lib64/ld-linux-x86-64.so.2 | docker import - rigger-mini:1 >/dev/null',
            'docker run --rm rigger-mini:1 /bin/dash -c "echo container-ok"',
          ].join('\n'),
        }),
      }),
    ],
  });
  const o = await runPlays(inventory, [play]);
  const r = o.runner.sessions.get('cicd')!.results.values().next().value!;
  assert.equal(r.status, 'changed', JSON.stringify(o.events.filter((e) => e.type === 'task-host')));
  assert.match((r.result as { stdout: string }).stdout, /container-ok/);
});

test('reset gives fresh nodes and keeps the backup volume; reset --all wipes it too', () => {
  const onData = (cmd: string) => execFileSync('docker', ['exec', 'rigger-lab-data', 'sh', '-c', cmd], { encoding: 'utf8' });
  onData('echo kept > /volume1/backup/marker; echo lost > /root/marker');
  assert.equal(lab(['reset']).code, 0);
  assert.equal(onData('cat /volume1/backup/marker; test -e /root/marker && echo there || echo fresh'), 'kept\nfresh\n');
  assert.equal(lab(['reset', '--all']).code, 0);
  assert.equal(onData('ls -A /volume1/backup | wc -l').trim(), '0');
});

/** The rehearsal inventory's rclone config for the lab remote, decrypted by the inventory loader, in a 0600 file. */
async function rehearsalRcloneConfig(): Promise<string> {
  const dir = scratchDir();
  writeFileSync(path.join(dir, 'rehearsal.yml'), rehearsalInventoryText());
  const inv = await loadInventories([path.join(dir, 'rehearsal.yml')], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const offsite = offsiteConfig.parse(inv.varsFor('data.vibe.local').get('backup_offsite')!.value);
  assert.equal(offsite.remote, `${LAB_REMOTE.name}:rigger`);
  const file = path.join(dir, 'rclone.conf');
  writeFileSync(file, offsite.rclone_config!.reveal(), { mode: 0o600 });
  return file;
}

/** This machine's rclone (Debian's, as on the nodes that copy off site) with a given config. */
const rclone = (config: string, ...args: string[]) => execFileSync('rclone', ['--config', config, '--contimeout', '5s', '--retries', '1', '--low-level-retries', '1', ...args], { encoding: 'utf8', stdio: 'pipe' });
// Their stderr (rclone's refusal, sftp's banner) is kept in the error, not printed among the results.
const onNode = (name: string, cmd: string) => execFileSync('docker', ['exec', `rigger-lab-${name}`, 'sh', '-c', cmd], { encoding: 'utf8', stdio: 'pipe' });
/** Seconds since `from`, for the step times the test reports. */
const since = (from: number) => `${((Date.now() - from) / 1000).toFixed(1)} s`;

test("the lab remote answers sftp with the rehearsal inventory's credentials, from this machine and from a node, and keeps its data through reset --all", async (t) => {
  const config = await rehearsalRcloneConfig();
  const content = `offsite-${randomUUID()}`;
  const local = path.join(scratchDir(), 'marker');
  writeFileSync(local, content);
  let at = Date.now();
  rclone(config, 'copyto', local, `${LAB_REMOTE.name}:rigger/lab-test/marker`);
  assert.equal(rclone(config, 'cat', `${LAB_REMOTE.name}:rigger/lab-test/marker`), content);
  t.diagnostic(`rclone copyto + cat through the lab remote: ${since(at)}`);
  // It checks the password: the same config with another one is refused.
  const wrong = path.join(scratchDir(), 'wrong.conf');
  const obscuredWrong = execFileSync('rclone', ['obscure', 'not-the-password'], { encoding: 'utf8' }).trim();
  writeFileSync(wrong, readFileSync(config, 'utf8').replace(/^pass = .*$/m, `pass = ${obscuredWrong}`), { mode: 0o600 });
  assert.throws(() => rclone(wrong, 'lsd', `${LAB_REMOTE.name}:`), /Command failed/);
  // From the data node (where the off-site copy runs), OpenSSH's sftp with the config's user and password.
  const password = execFileSync('rclone', ['reveal', /^pass = (.*)$/m.exec(readFileSync(config, 'utf8'))![1]!], { encoding: 'utf8' }).trim();
  at = Date.now();
  const got = onNode(
    'data',
    `printf '#!/bin/sh\\necho %s\\n' '${password}' > /tmp/askpass && chmod 700 /tmp/askpass && ` +
      `echo 'get rigger/lab-test/marker /tmp/offsite-marker' | SSH_ASKPASS=/tmp/askpass SSH_ASKPASS_REQUIRE=force ` +
      `sftp -P ${LAB_REMOTE.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no ${LAB_REMOTE.user}@${LAB_REMOTE.ip} >/dev/null && cat /tmp/offsite-marker; rm -f /tmp/askpass /tmp/offsite-marker`,
  );
  assert.equal(got, content);
  t.diagnostic(`sftp get from the data node: ${since(at)}`);
  // The cloud's data outlives the loss of every node and backup disk.
  at = Date.now();
  assert.equal(lab(['reset', '--all']).code, 0);
  t.diagnostic(`reset --all: ${since(at)}`);
  assert.equal(rclone(config, 'cat', `${LAB_REMOTE.name}:rigger/lab-test/marker`), content);
  rclone(config, 'purge', `${LAB_REMOTE.name}:rigger/lab-test`);
  const s = lab(['status']);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  assert.match(s.stdout, new RegExp(`lab remote ${LAB_REMOTE.ip.replace(/\./g, '\\.')}:${LAB_REMOTE.port} .*: answers sftp`));
});

test("reset --all ai recreates only the ai node and wipes only its backup volume", (t) => {
  const containerId = (name: string) => docker('inspect', '-f', '{{.Id}}', name);
  const names = ['gateway', 'ai', 'data', 'cicd'];
  const before = Object.fromEntries([...names.map((n) => [n, containerId(`rigger-lab-${n}`)]), ['remote', containerId(LAB_REMOTE.container)]]);
  for (const n of ['gateway', 'ai', 'cicd']) onNode(n, `echo ${n}-disk > /srv/backup/marker && echo ${n}-root > /root/marker`);
  onNode('data', 'echo data-disk > /volume1/backup/marker');
  try {
    const at = Date.now();
    const r = lab(['reset', '--all', 'ai']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    t.diagnostic(`reset --all ai: ${since(at)} (${/lab reset.*/.exec(r.stdout)?.[0]})`);
    assert.match(r.stdout, /lab reset \(ai only\) in [\d.]+ s \(backup volume wiped too\)/);
    assert.notEqual(containerId('rigger-lab-ai'), before.ai, 'ai is a new container');
    assert.equal(onNode('ai', 'ls -A /srv/backup | wc -l; test -e /root/marker && echo there || echo fresh'), '0\nfresh\n', "ai's disk and backup volume are gone");
    for (const n of ['gateway', 'cicd']) {
      assert.equal(containerId(`rigger-lab-${n}`), before[n], `${n} is the same container`);
      assert.equal(onNode(n, 'cat /srv/backup/marker /root/marker'), `${n}-disk\n${n}-root\n`, `${n} and its backup volume are untouched`);
    }
    assert.equal(containerId('rigger-lab-data'), before.data);
    assert.equal(onNode('data', 'cat /volume1/backup/marker'), 'data-disk\n');
    assert.equal(containerId(LAB_REMOTE.container), before.remote, 'the lab remote is left alone');
    // ai's new host key is pinned: every node answers over SSH with strict checking.
    const s = lab(['status']);
    assert.equal(s.code, 0, s.stdout + s.stderr);
  } finally {
    for (const n of ['gateway', 'ai', 'cicd']) onNode(n, 'rm -f /srv/backup/marker /root/marker');
    onNode('data', 'rm -f /volume1/backup/marker');
  }
});

/** The images the lab built, each with its ID: a rebuild (debootstrap, then every image FROM it) gives new IDs. */
const builtImages = () =>
  docker('images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', '--filter', 'reference=rigger-lab-*', '--filter', 'reference=127.0.0.1:5005/lab/*', '--filter', 'reference=127.0.0.1:5005/lab/*/*')
    .split('\n')
    .filter(Boolean)
    .sort();

test('down removes what the lab created and nothing else, keeping its built images; up again works and builds nothing', () => {
  execFileSync('docker', ['volume', 'create', 'unrelated-to-the-lab']);
  const images = builtImages();
  assert.ok(images.some((i) => i.startsWith(`${IMAGE} `)), `the base image is among the built images: ${images.join(', ')}`);
  assert.ok(images.some((i) => /\/lab\/web:/.test(i)) && images.some((i) => /^rigger-lab-registry:/.test(i)), `the service and registry images too: ${images.join(', ')}`);
  try {
    const d = lab(['down']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(docker('ps', '-aq', '--filter', `label=${LABEL}`), '');
    assert.equal(docker('volume', 'ls', '-q', '--filter', 'name=rigger-lab'), '');
    assert.equal(docker('network', 'ls', '-q', '--filter', 'name=rigger-lab'), '');
    assert.equal(existsSync('inventory/lab.yml'), false);
    assert.equal(docker('volume', 'ls', '-q', '--filter', 'name=unrelated-to-the-lab'), 'unrelated-to-the-lab', 'nothing else removed');
    assert.deepEqual(builtImages(), images, 'every built image is kept (down --purge removes them)');
    // From no containers: the kept images are pushed to a new registry and the nodes start; nothing is built.
    const u = lab(['up']);
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.deepEqual(builtImages(), images, 'up rebuilt nothing: the same images, by ID, and no new one');
    // What is not the user's business stays out of a first run's output.
    assert.doesNotMatch(u.stdout + u.stderr, /DEPRECATED|legacy builder|debconf|needrestart|Scanning processes/i, u.stdout + u.stderr);
    assert.equal(lab(['status']).code, 0);
  } finally {
    execFileSync('docker', ['volume', 'rm', 'unrelated-to-the-lab']);
  }
});
