import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { takeDeployLock } from '../../lib/ops/docker/rollout/deploy-lock.ts';
import { startSshd, transportTo } from '../helpers/sshd.ts';
import { remoteOf } from '../helpers/remote.ts';

test('item 14: a heartbeat whose connection died (the sshd killed, as a lost manager) is reported when the run releases the lock', async () => {
  const sshd = await startSshd();
  const root = mkdtempSync(path.join(tmpdir(), 'lock-heartbeat-'));
  const t = transportTo(sshd, { connectAttempts: 2 }, 'manager');
  try {
    const lock = await takeDeployLock(remoteOf(t), { user: 'alice', action: 'deploy' }, { dir: path.join(root, 'deploys'), runs: path.join(root, 'runs'), heartbeatMs: 50 });
    sshd.kill();
    for (const end = Date.now() + 20_000; lock.heartbeatTrouble() === undefined; await new Promise((r) => setTimeout(r, 20))) if (Date.now() > end) assert.fail('the failed heartbeat was never reported');
    assert.match(lock.heartbeatTrouble()!, /the deploy lock's heartbeat failed/);
    await assert.rejects(lock.release(), /the deploy lock's heartbeat failed.*another run may have changed services meanwhile.*releasing it failed too/s);
  } finally {
    await t.close();
    await sshd.stop();
  }
});
