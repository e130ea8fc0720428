// The docker info fact on a host whose engine does not answer. Docker's CLI
// (seen with 28.x) still prints its client half as JSON and exits 1 when the
// daemon is down, so the probe must not glue a marker after that JSON: CI's
// unit stage (CLI installed, no engine) failed every preflight with
// "Unexpected non-whitespace character after JSON".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dockerInfo, parseDockerInfo } from '../../lib/facts/docker.ts';

const clientOnly = JSON.stringify({ ID: '', ServerVersion: '', Swarm: { LocalNodeState: '' }, ClientInfo: { Version: '28.2.2' } });

test('docker info with the client half printed and the engine down reads as installed, not running', () => {
  for (const text of [`${clientOnly}\n@@down\n`, `${clientOnly}@@down`, clientOnly]) {
    const info = parseDockerInfo(text);
    assert.equal(info.installed, true, text);
    assert.equal(info.running, false, text);
  }
});

test('the docker info probe, run by sh against an engine that does not answer, parses as not running', () => {
  const r = spawnSync('sh', ['-c', dockerInfo.command.bytes.toString()], { env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
  assert.equal(r.status, 0, r.stderr.toString());
  const info = dockerInfo.parse({ stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1, durationMs: 0 });
  assert.deepEqual([info.installed, info.running], [true, false]);
});
