import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupVars } from '../../lib/backup/config.ts';
import { parseSetOutput, setCommand } from '../../lib/backup/set-script.ts';
import { scratchDir } from '../helpers/run.ts';

// A volume item of a service that writes while it is read (Prometheus's
// WAL): this machine's real GNU tar reads a directory a writer keeps
// appending to. The `docker` on PATH is a STAND-IN that runs that tar on a
// local directory in place of `docker run ... tar` on a volume; the set
// script, its checks and the manifest are the real ones.
function fixture(failWith?: string) {
  const dir = scratchDir();
  const root = path.join(dir, 'backup');
  const volume = path.join(dir, 'volume');
  mkdirSync(root);
  mkdirSync(path.join(volume, 'wal'), { recursive: true });
  writeFileSync(path.join(volume, 'wal', '00000001'), Buffer.alloc(8 << 20, 7));
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(
    path.join(dir, 'bin', 'docker'),
    `#!/bin/sh
case "$1" in
  volume) exit 0 ;;
  run) [ -z "$PULL_NOISE" ] || echo "Unable to find image 'debian:bookworm-slim' locally" >&2
       ${failWith ? `echo ${JSON.stringify(failWith)} >&2; exit 1` : `exec tar -C "${volume}" -cf - .`} ;;
  *) echo "stand-in docker: unexpected $*" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(path.join(dir, 'bin', 'docker'), 0o755);
  return { root, volume, env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` } };
}

function runSet(root: string, env: NodeJS.ProcessEnv) {
  const vars = backupVars.parse({ backup_root: root, backup_root_create: true, backup_min_free_mb: 0, backup_items: [{ kind: 'volume', volume: 'monitoring_prometheus_data' }] });
  const c = setCommand({ vars, items: vars.backup_items });
  const r = spawnSync('sh', ['-c', c.bytes.toString()], { env, input: c.stdinBytes(), encoding: 'utf8' });
  return { ...r, outcome: parseSetOutput(r.stdout) };
}

const manifestItem = (root: string, set: string) => JSON.parse(readFileSync(path.join(root, set, 'manifest.json'), 'utf8')).items[0];

test('a volume written to while tar reads it: the set is published and its manifest says the files changed while read', async () => {
  const f = fixture();
  const quiet = runSet(f.root, f.env);
  assert.equal(quiet.status, 0, quiet.stderr + quiet.stdout);
  assert.equal(manifestItem(f.root, quiet.outcome.set!).changed_while_read, false);

  // The writer appends to the segment tar is reading, as Prometheus does to its WAL.
  const writer = spawn('sh', ['-c', `while :; do head -c 65536 /dev/zero >> "${path.join(f.volume, 'wal', '00000001')}"; done`], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    // docker run's own lines (an image pulled on a first backup) share stderr with tar's: only tar's count.
    const live = runSet(f.root, { ...f.env, PULL_NOISE: '1' });
    assert.equal(live.status, 0, live.stderr + live.stdout);
    assert.equal(live.outcome.published, true);
    const item = manifestItem(f.root, live.outcome.set!);
    assert.equal(item.changed_while_read, true, 'GNU tar saw the segment change and the set records it');
    assert.ok(item.files >= 2);
  } finally {
    writer.kill('SIGKILL');
  }
});

test('tar exiting 1 for any other reason fails the item and publishes nothing', () => {
  const f = fixture('tar: ./wal/00000001: Cannot open: Permission denied');
  const r = runSet(f.root, f.env);
  assert.notEqual(r.status, 0);
  assert.equal(r.outcome.published, false);
  assert.match(r.outcome.failure!.reason, /tar of volume monitoring_prometheus_data failed: tar: .*Permission denied/);
  assert.deepEqual(readdirSync(f.root).filter((n) => n !== '.rigger' && n !== '.rigger-backup-root'), [], 'no set, no .partial');
});
