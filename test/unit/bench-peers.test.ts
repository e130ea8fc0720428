import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ansibleCause, checkPeers, mitogenStrategyDir, PeerError } from '../../scripts/bench/peers.ts';

// The benchmark's peers must run or stop the benchmark by name (issue 21):
// checked here against this machine's own Ansible and Mitogen (scripts/test-deps.sh
// installs both), on a local-connection inventory: no lab needed.

function scratch(strategies: string): { dir: string; inventory: string; config: (tool: string) => string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-peers-'));
  const inventory = path.join(dir, 'hosts.ini');
  writeFileSync(inventory, 'local ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
  writeFileSync(path.join(dir, 'ansible.cfg'), '[defaults]\ngathering = explicit\n');
  writeFileSync(path.join(dir, 'mitogen.cfg'), `[defaults]\ngathering = explicit\nstrategy_plugins = ${strategies}\nstrategy = mitogen_linear\n`);
  return { dir, inventory, config: (tool) => path.join(dir, `${tool === 'mitogen' ? 'mitogen' : 'ansible'}.cfg`) };
}

test('the installed Ansible and Mitogen run a play with the strategy path found from ansible-playbook\'s own Python', () => {
  const strategies = mitogenStrategyDir();
  assert.match(strategies, /ansible_mitogen\/plugins\/strategy$/);
  const s = scratch(strategies);
  try {
    checkPeers(['floor', 'rigger', 'ansible', 'mitogen'], s.dir, s.inventory, s.config);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('a peer that cannot run stops the benchmark naming the peer and the cause', () => {
  const s = scratch('/nonexistent');
  try {
    // A strategy Ansible cannot load: the error line Ansible prints is the cause.
    writeFileSync(s.config('mitogen'), '[defaults]\nstrategy = mitogen_missing\n');
    assert.throws(
      () => checkPeers(['ansible', 'mitogen'], s.dir, s.inventory, s.config),
      (e: unknown) => e instanceof PeerError && e.peer === 'mitogen' && /peer mitogen cannot run: ERROR! Invalid play strategy specified: mitogen_missing/.test(e.message),
    );
    // ansible-playbook missing from PATH.
    const path0 = process.env.PATH;
    process.env.PATH = s.dir;
    try {
      assert.throws(() => checkPeers(['ansible'], s.dir, s.inventory, s.config), (e: unknown) => e instanceof PeerError && e.peer === 'ansible');
    } finally {
      process.env.PATH = path0;
    }
    // A Python that cannot import ansible_mitogen.
    const python = path.join(s.dir, 'python3');
    writeFileSync(python, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'ansible_mitogen'\" >&2\nexit 1\n");
    chmodSync(python, 0o755);
    assert.throws(() => mitogenStrategyDir(python), (e: unknown) => e instanceof PeerError && e.peer === 'mitogen' && /No module named 'ansible_mitogen'/.test(e.message));
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('ansibleCause picks the line that says what went wrong', () => {
  assert.equal(ansibleCause('\nPLAY [all] ****\nERROR! Invalid play strategy specified: x\n\nThe error appears to be in'), 'ERROR! Invalid play strategy specified: x');
  assert.equal(ansibleCause('fatal: [h1]: UNREACHABLE! => {}\n'), 'fatal: [h1]: UNREACHABLE! => {}');
});
