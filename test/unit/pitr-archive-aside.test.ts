// The recovery's "old archive kept aside" (pitrArchiveAside) on a local host, with
// real directories: it moves an archive that exists aside, and when the archive
// host lost its disk too (every node lost, backup disks included) there is no
// archive to move: nothing to do, and nothing made (the lab's every-node drill
// failed here on mkdir of ARCHIVE_DIR/before-pitr-STAMP under a missing dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlay } from '../../lib/index.ts';
import { ARCHIVER, pitrConfig } from '../../lib/pitr/config.ts';
import { pitrArchiveAside } from '../../lib/pitr/ops/index.ts';
import { localInventory, runPlays, scratchDir } from '../helpers/run.ts';

/**
 * A `docker` that records its calls and answers as Docker does about the
 * archiver: `rm` removes it, then `inspect` finds no such object. `stuck`:
 * `rm` fails (the daemon could not remove it) and `inspect` still finds it.
 */
function withDockerRecorder(dir: string, stuck = false): string {
  const bin = path.join(dir, 'bin');
  const log = path.join(dir, 'docker.log');
  mkdirSync(bin);
  const answer = stuck
    ? `case $1 in rm) echo 'Error response from daemon: could not kill container: permission denied' >&2; exit 1;; inspect) echo 4f1c2a; exit 0;; esac`
    : `case $1 in inspect) echo "Error: No such object: $4" >&2; exit 1;; esac`;
  writeFileSync(path.join(bin, 'docker'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${JSON.stringify(log)}\n${answer}\n`);
  chmodSync(path.join(bin, 'docker'), 0o755);
  process.env.PATH = `${bin}:${process.env.PATH}`;
  return log;
}

async function aside(archiveDir: string, check = false) {
  const config = pitrConfig.parse({ database_host: 'db-server', archive_host: 'db', archive_dir: archiveDir, password: 'pw' });
  const play = definePlay({ name: 'aside', hosts: 'db', tasks: ({ task }) => [task({ name: 'old archive kept aside', op: () => pitrArchiveAside({ config }) })] });
  const out = await runPlays(localInventory(['db']), [play], { check });
  return { status: out.statuses.get('old archive kept aside')?.get('db'), out };
}

test('no archive directory (the archive host lost its disk): ok, nothing made, in check mode too', async () => {
  const dir = scratchDir();
  withDockerRecorder(dir);
  const archive = path.join(dir, 'srv/backup/pitr');
  for (const check of [true, false]) {
    const r = await aside(archive, check);
    assert.equal(r.status, 'ok', JSON.stringify(r.out.events.filter((e) => e.type === 'task-host')));
    assert.equal(existsSync(archive), false, 'no archive directory made');
  }
  // An archive directory with neither base/ nor wal/ (made, never written): ok, nothing made in it.
  mkdirSync(archive, { recursive: true });
  assert.equal((await aside(archive)).status, 'ok');
  assert.deepEqual(readdirSync(archive), []);
});

test("an archive with base/ and wal/: moved whole into before-pitr-STAMP, the archiver removed; check mode moves nothing", async () => {
  const dir = scratchDir();
  const log = withDockerRecorder(dir);
  const archive = path.join(dir, 'pitr');
  mkdirSync(path.join(archive, 'base/20261207_020000'), { recursive: true });
  mkdirSync(path.join(archive, 'wal'), { recursive: true });
  writeFileSync(path.join(archive, 'wal/000000010000000000000001'), 'x');
  assert.equal((await aside(archive, true)).status, 'changed');
  assert.deepEqual(readdirSync(archive).sort(), ['base', 'wal'], 'check mode moved nothing');
  assert.equal(existsSync(log), false, 'check mode ran no docker');
  assert.equal((await aside(archive)).status, 'changed');
  const [moved, ...rest] = readdirSync(archive);
  assert.deepEqual(rest, []);
  assert.match(moved!, /^before-pitr-\d{8}_\d{6}$/);
  assert.deepEqual(readdirSync(path.join(archive, moved!)).sort(), ['base', 'wal']);
  assert.equal(readdirSync(path.join(archive, moved!, 'wal'))[0], '000000010000000000000001');
  // Moved once: a second run finds nothing to move.
  assert.equal((await aside(archive)).status, 'ok');
});

test('the archiver still there after docker rm -f (rm failed, inspect finds it): failed, naming it, nothing moved', async () => {
  const dir = scratchDir();
  const log = withDockerRecorder(dir, true);
  const archive = path.join(dir, 'pitr');
  mkdirSync(path.join(archive, 'wal'), { recursive: true });
  writeFileSync(path.join(archive, 'wal/000000010000000000000001'), 'x');
  const r = await aside(archive);
  assert.equal(r.status, 'failed');
  const failure = JSON.stringify(r.out.events.filter((e) => e.type === 'task-host'));
  assert.match(failure, new RegExp(ARCHIVER));
  assert.deepEqual(readdirSync(archive), ['wal'], 'nothing moved while the archiver may still write');
  assert.match(readFileSync(log, 'utf8'), /^inspect .*rigger-wal-archiver$/m, 'the op looked again after rm');
});
