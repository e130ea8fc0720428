// The other layouts on the operators' Ubuntu (../shared/operators/003: Ubuntu
// VMs; 004: Ubuntu 22.04). Quadlet came with Podman 4.4 and Ubuntu 22.04
// ships 3.4, so the single-server role refuses an older Podman before it
// changes anything; the Core/Edge inventory's Docker packages are chosen by
// the host's /etc/os-release. No Ubuntu host can be built here: the roles'
// own tasks are given the facts, and the Podman fact also runs for real on
// this machine (Debian 12, whose apt offers Podman 4.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { facts } from '../../lib/index.ts';
import type { Fact } from '../../lib/model/fact.ts';
import type { HostContext } from '../../lib/model/host-context.ts';
import type { Op } from '../../lib/model/op.ts';
import type { Task } from '../../lib/model/task.ts';
import { parseOsRelease } from '../../lib/facts/system.ts';
import { parsePodmanVersion, podmanVersion } from '../../lib/facts/podman.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { resolveHostVars, typedVars } from '../../lib/runner/host-vars.ts';
import type { Role } from '../../lib/model/role.ts';
import { docker } from '../../roles/docker/index.ts';
import { singleServer } from '../../roles/single-server/index.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

// /etc/os-release as each distribution ships it (the fields rigger reads).
const UBUNTU_2204 = 'PRETTY_NAME="Ubuntu 22.04.5 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n';
const UBUNTU_2404 = 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n';
const DEBIAN_13 = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n';
const FEDORA = 'NAME="Fedora Linux"\nVERSION_ID=41\nID=fedora\n';

/** The role's task of that name. */
function taskOf(role: Role, name: string): Task<unknown, any> {
  const t = role.tasks.find((i) => (i as Task).name === name) as Task<unknown, any> | undefined;
  assert.ok(t, `role ${role.name} has a task "${name}": ${role.tasks.map((i) => (i as Task).name).join(', ')}`);
  return t;
}

/** A host as the runner gives it to a task: typed variables and facts (here given, not gathered). */
function hostWith<V>(vars: V, given: Map<Fact<unknown>, unknown>): HostContext<V> {
  return {
    name: 'h',
    vars,
    allVars: {},
    groups: [],
    check: false,
    fact: <F>(f: Fact<F>): F => {
      if (!given.has(f as Fact<unknown>)) throw new Error(`fact ${f.name} not given`);
      return given.get(f as Fact<unknown>) as F;
    },
    result: () => undefined,
    status: () => undefined,
    message: () => undefined,
    resultOf: () => undefined,
    hostVars: () => ({}),
    groupHosts: () => [],
  };
}

const opOf = (t: Task<unknown, any>, h: HostContext<any>): Op<unknown, any> => (typeof t.options.op === 'function' ? t.options.op(h) : t.options.op);

test('Podman versions as `podman --version` and apt print them: installed first, else apt\'s candidate', () => {
  assert.deepEqual(parsePodmanVersion('@@installed podman version 3.4.4\n@@candidate 3.4.4+ds1-1ubuntu1.22.04.2\n'), { installed: '3.4.4', candidate: '3.4.4' });
  assert.deepEqual(parsePodmanVersion('@@installed \n@@candidate 4.9.3+ds1-1ubuntu0.2\n'), { candidate: '4.9.3' });
  assert.deepEqual(parsePodmanVersion('@@installed podman version 5.4.2\n@@candidate (none)\n'), { installed: '5.4.2' });
  assert.deepEqual(parsePodmanVersion('@@installed \n@@candidate (none)\n'), {});
});

test('the single-server role refuses a Podman older than 4.4 before any change, naming the version found and the one needed', () => {
  const vars = singleServer.defaults.parse({});
  const gate = taskOf(singleServer, 'podman 4.4 or newer (quadlet)');
  assert.equal(singleServer.tasks[0], gate, 'the first task: nothing changes before it');
  const verdict = (text: string) => opOf(gate, hostWith(vars, new Map([[podmanVersion as Fact<unknown>, parsePodmanVersion(text)]]))).decide(undefined);

  // Ubuntu 22.04 (the operators' 004): 3.4.4 installed, or offered by apt.
  const old = verdict('@@installed podman version 3.4.4\n@@candidate 3.4.4+ds1-1ubuntu1.22.04.2\n');
  assert.equal(old.kind, 'fail');
  assert.match(old.kind === 'fail' ? old.reason : '', /Podman 3\.4\.4 \(installed\) .*4\.4\.0 or newer/);
  const offered = verdict('@@installed \n@@candidate 3.4.4+ds1-1ubuntu1.22.04.2\n');
  assert.match(offered.kind === 'fail' ? offered.reason : '', /Podman 3\.4\.4 \(apt's candidate\) .*4\.4\.0/);
  // Ubuntu 24.04's 4.9.3 and Debian 13's 5.4.2 pass; 4.4.0 itself passes.
  assert.equal(verdict('@@installed \n@@candidate 4.9.3+ds1-1ubuntu0.2\n').kind, 'ok');
  assert.equal(verdict('@@installed podman version 5.4.2\n@@candidate 5.4.2+ds1-2\n').kind, 'ok');
  assert.equal(verdict('@@installed podman version 4.4.0\n@@candidate (none)\n').kind, 'ok');
  // No Podman to be had at all is refused too.
  assert.match((v => (v.kind === 'fail' ? v.reason : ''))(verdict('@@installed \n@@candidate (none)\n')), /no Podman installed and none in apt/);

  // And for real on this machine: the fact's own command, run by sh as on a host. This Debian 12's apt offers 4.3.1.
  const r = spawnSync('sh', ['-c', podmanVersion.command.bytes.toString('utf8')]);
  const here = podmanVersion.parse({ code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, durationMs: 0 });
  const real = opOf(gate, hostWith(vars, new Map([[podmanVersion as Fact<unknown>, here]]))).decide(undefined);
  const found = here.installed ?? here.candidate;
  if (found && Number(found.split('.')[0]) * 100 + Number(found.split('.')[1]) < 404) assert.match(real.kind === 'fail' ? real.reason : '', new RegExp(`Podman ${found.replace(/\./g, '\\.')} .*4\\.4\\.0`));
  else assert.equal(real.kind, found ? 'ok' : 'fail');
});

test('the Core/Edge inventory installs Debian\'s or Ubuntu\'s Docker packages, chosen by the host\'s os-release', async () => {
  const inv = await loadInventories([path.join(REPO, 'inventory/core-edge.yml')], { vaultPassphrase: () => 'homelab-example' });
  const vars = typedVars(docker.defaults, resolveHostVars(inv, 'vibe-core', new Map(), new Map()), 'role docker', 'vibe-core');
  const packagesTask = taskOf(docker, 'Docker packages');
  const names = (osText: string) => {
    const op = opOf(packagesTask, hostWith(vars, new Map([[facts.osRelease as Fact<unknown>, parseOsRelease(osText)]])));
    return op.kind === 'apt.packages' ? (op.params as { names: string[] }).names : op.decide(undefined);
  };
  assert.deepEqual(names(DEBIAN_13), ['docker.io', 'docker-cli', 'docker-compose']);
  assert.deepEqual(names(UBUNTU_2204), ['docker.io', 'docker-compose-v2']);
  assert.deepEqual(names(UBUNTU_2404), ['docker.io', 'docker-compose-v2']);
  const other = names(FEDORA) as { kind: string; reason?: string };
  assert.equal(other.kind, 'fail');
  assert.match(other.reason ?? '', /fedora 41.*debian, ubuntu/);
});
