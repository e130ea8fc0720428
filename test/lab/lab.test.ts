import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { definePlay, ops } from '../../lib/index.ts';
import { IMAGE, LABEL, NODES } from '../../scripts/lab/config.ts';
import { ensureLab, lab, resetLab } from '../helpers/lab.ts';
import { runPlays } from '../helpers/run.ts';

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
