import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { definePlay, facts, ops } from '../../lib/index.ts';
import { ensureLab, resetLab } from '../helpers/lab.ts';
import { runPlays } from '../helpers/run.ts';

let inv: string;
// Fresh nodes, whatever the suite before left (the suites run in file-name
// order and most leave a converged lab behind).
before(() => {
  inv = ensureLab();
  resetLab();
});

test('facts of a lab node: all nine read in one round trip, then the probes of every task in one more', async () => {
  const seen = new Map<string, unknown>();
  const play = definePlay({
    name: 'facts',
    hosts: 'gateway',
    facts: [facts.osRelease, facts.arch, facts.initSystem, facts.gpu, facts.dockerInfo, facts.mounts, facts.freeDisk('/'), facts.packageVersions(['openssh-server', 'nonexistent-pkg']), facts.serviceStates(['ssh', 'nonexistent'])],
    tasks: ({ task }) => [
      task({
        name: 'read facts',
        op: (h) => {
          seen.set('os', h.fact(facts.osRelease));
          seen.set('arch', h.fact(facts.arch));
          seen.set('init', h.fact(facts.initSystem));
          seen.set('gpu', h.fact(facts.gpu));
          seen.set('docker', h.fact(facts.dockerInfo));
          seen.set('mounts', h.fact(facts.mounts));
          seen.set('disk', h.fact(facts.freeDisk('/')));
          seen.set('pkgs', h.fact(facts.packageVersions(['openssh-server', 'nonexistent-pkg'])));
          seen.set('svc', h.fact(facts.serviceStates(['ssh', 'nonexistent'])));
          return ops.file({ path: '/etc', state: 'directory' });
        },
      }),
      task({ name: 'no facts needed', op: ops.file({ path: '/tmp', state: 'directory' }) }),
    ],
  });
  const o = await runPlays(inv, [play]);
  assert.equal(o.summary.exitCode, 0);
  // The first op is built from facts, so facts come first (one trip for all
  // nine), then both tasks' probes together (one trip): never one per fact or task.
  assert.equal(o.runner.sessions.get('gateway')!.roundTrips, 2);
  const os = seen.get('os') as { id: string; codename: string };
  assert.equal(os.id, 'debian');
  assert.equal(os.codename, 'bookworm');
  assert.deepEqual(seen.get('arch'), { machine: 'x86_64', debian: 'amd64' });
  assert.equal(seen.get('init'), 'systemd');
  assert.deepEqual(seen.get('gpu'), { present: false, source: 'none', devices: [] }, 'no GPU in the lab');
  assert.equal((seen.get('docker') as { installed: boolean }).installed, false);
  assert.ok((seen.get('mounts') as { target: string }[]).some((m) => m.target === '/'));
  const disk = seen.get('disk') as { availableBytes: number; sizeBytes: number };
  assert.ok(disk.availableBytes > 0 && disk.sizeBytes >= disk.availableBytes);
  const pkgs = seen.get('pkgs') as Map<string, string>;
  assert.match(pkgs.get('openssh-server') ?? '', /^1:9\./);
  assert.equal(pkgs.has('nonexistent-pkg'), false);
  const svc = seen.get('svc') as Map<string, { active: string }>;
  assert.equal(svc.get('ssh')!.active, 'active');
  assert.equal(svc.get('nonexistent')!.active, 'inactive');
});
