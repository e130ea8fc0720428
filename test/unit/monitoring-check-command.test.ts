// The monitoring role's configuration check runs promtool and amtool in their
// images: two `docker run`s started at once, their results read apart. A
// stand-in `docker` on PATH plays both images: promtool's run waits until
// amtool's has started (so run one after the other, promtool would give up
// and fail), and each prints and exits as the real tools do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { check } from '../../lib/monitoring/ops/check.ts';

const standinDocker = `#!/bin/sh
# docker run --rm -v DIR:/etc/TOOL:ro --entrypoint TOOL IMAGE ARGS...
while [ "$1" != "--entrypoint" ]; do shift; done
tool=$2
case $tool in
  amtool)
    : > "$FAKE_DIR/amtool-started"
    if [ -n "$AMTOOL_FAILS" ]; then echo 'Checking /etc/alertmanager/alertmanager.yml  FAILED: unknown receiver'; exit 1; fi
    echo 'Checking /etc/alertmanager/alertmanager.yml  SUCCESS' ;;
  promtool)
    i=0
    while [ ! -e "$FAKE_DIR/amtool-started" ]; do i=$((i+1)); [ $i -gt 200 ] && { echo 'FAILED: amtool never started beside me'; exit 1; }; sleep 0.05; done
    echo 'Checking /etc/prometheus/prometheus.yml  SUCCESS' ;;
esac
`;

function probeWith(env: Record<string, string>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mon-check-'));
  try {
    const bin = path.join(dir, 'bin');
    const fake = path.join(dir, 'fake');
    const scratch = path.join(dir, 'tmp');
    for (const d of [bin, fake, scratch]) spawnSync('mkdir', ['-p', d]);
    writeFileSync(path.join(bin, 'docker'), standinDocker);
    chmodSync(path.join(bin, 'docker'), 0o755);
    const op = check({ prometheusImage: 'prom/prometheus:v2', prometheus: { 'prometheus.yml': 'global: {}\n', 'rules/a.yml': 'groups: []\n' }, alertmanagerImage: 'prom/alertmanager:v0', alertmanager: 'route: {}\n' });
    assert.ok(op.probe);
    const r = spawnSync('sh', ['-c', op.probe.command.bytes.toString()], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_DIR: fake, TMPDIR: scratch, ...env } });
    const state = op.probe.parse({ code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr } as never) as ReturnType<typeof import('../../lib/monitoring/ops/check.ts').parseCheck>;
    return { state, decision: op.decide(state as never), leftInTmp: readdirSync(scratch) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('promtool and amtool run at once; both pass, and the scratch directory is removed', () => {
  const { state, decision, leftInTmp } = probeWith({});
  assert.equal(state.prometheus?.code, 0, state.prometheus?.output);
  assert.equal(state.alertmanager?.code, 0, state.alertmanager?.output);
  assert.equal(decision.kind, 'ok');
  assert.deepEqual(leftInTmp, []);
});

test("a failing amtool is amtool's failure, with its line, and promtool's result stays its own", () => {
  const { state, decision } = probeWith({ AMTOOL_FAILS: '1' });
  assert.equal(state.prometheus?.code, 0, state.prometheus?.output);
  assert.equal(state.alertmanager?.code, 1);
  assert.equal(decision.kind, 'fail');
  assert.match((decision as { reason: string }).reason, /^amtool check-config:\n.*FAILED: unknown receiver$/);
  assert.doesNotMatch((decision as { reason: string }).reason, /promtool/);
});
