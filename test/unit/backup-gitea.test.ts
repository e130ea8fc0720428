import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupVars } from '../../lib/backup/config.ts';
import { parseSetOutput, setCommand } from '../../lib/backup/set-script.ts';
import { scratchDir } from '../helpers/run.ts';

// Gitea has no Debian 12 package and the lab cannot pull its image, so the
// gitea item runs here against fixtures: the real set script, run by bash on
// this machine, with a STAND-IN `docker` on PATH whose `exec ... gitea dump`
// writes a real zip (or fails as gitea would). Everything else is real:
// flock, the .partial names, the zip read back in full, sha256, the manifest.
const python = (code: string, ...args: string[]) => {
  const r = spawnSync('python3', ['-c', code, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};

function fixture(): { dir: string; root: string; zip: string; env: NodeJS.ProcessEnv } {
  const dir = scratchDir();
  const root = path.join(dir, 'backup');
  mkdirSync(root);
  mkdirSync(path.join(dir, 'bin'));
  const zip = path.join(dir, 'gitea-dump.zip');
  python('import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n  z.writestr("gitea-db.sql", "CREATE TABLE repository (id int);\\n" * 200)\n  z.writestr("repos/vibe/app.git/HEAD", "ref: refs/heads/main\\n")\n  z.writestr("app.ini", "[server]\\nSSH_PORT = 222\\n")', zip);
  // The stand-in docker: `ps` finds the gitea container, `exec` runs "gitea dump --file -".
  writeFileSync(
    path.join(dir, 'bin', 'docker'),
    `#!/bin/sh
case "$1" in
  ps) echo 0123456789ab ;;
  inspect) echo gitea/gitea:1.22.4 ;;
  exec) case "$*" in *' test -w '*) exit 0 ;; esac   # the temp dir is writable by git
        printf '%s\\n' "$*" > "${dir}/exec-args"
        if [ -n "$GITEA_FAILS" ]; then echo "Failed to connect to database: dial tcp: connection refused" >&2; exit 1; fi
        cat "$FIXTURE_ZIP" ;;
  *) echo "stand-in docker: unexpected $*" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(path.join(dir, 'bin', 'docker'), 0o755);
  return { dir, root, zip, env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, FIXTURE_ZIP: zip } };
}

function runSet(root: string, env: NodeJS.ProcessEnv) {
  const vars = backupVars.parse({ backup_root: root, backup_root_create: true, backup_min_free_mb: 0, backup_items: [{ kind: 'gitea', service: 'data_gitea', tempdir: '/backup-tmp', volume: 'data_gitea_data' }] });
  const c = setCommand({ vars, items: vars.backup_items });
  const r = spawnSync('sh', ['-c', c.bytes.toString()], { env, input: c.stdinBytes(), encoding: 'utf8' });
  return { ...r, outcome: parseSetOutput(r.stdout) };
}

test('gitea (fixture): gitea dump to stdout inside the container, read back in full, sealed into a published set', () => {
  const f = fixture();
  const r = runSet(f.root, f.env);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.equal(r.outcome.published, true);
  assert.match(readFileSync(path.join(f.dir, 'exec-args'), 'utf8'), /^exec -i -u git 0123456789ab gitea dump -c \/data\/gitea\/conf\/app\.ini --type zip --skip-log --tempdir \/backup-tmp --file -$/m);
  const set = r.outcome.set!;
  const manifest = JSON.parse(readFileSync(path.join(f.root, set, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.items.map((i: { name: string; files: number; check: string; image: string; volume: string }) => [i.name, i.files, i.check, i.image, i.volume]), [['gitea-data_gitea', 3, 'zip test', 'gitea/gitea:1.22.4', 'data_gitea_data']]);
  assert.deepEqual(readFileSync(path.join(f.root, set, 'gitea-data_gitea.zip')), readFileSync(f.zip));
});

test('gitea (fixture): a failed dump or a corrupt zip publishes nothing and names the item', () => {
  const f = fixture();
  const failed = runSet(f.root, { ...f.env, GITEA_FAILS: '1' });
  assert.notEqual(failed.status, 0);
  assert.equal(failed.outcome.failure?.item, 'gitea-data_gitea');
  assert.match(failed.outcome.failure!.reason, /gitea dump failed: Failed to connect to database/);
  assert.deepEqual(readdirSync(f.root).filter((n) => n !== '.rigger' && n !== '.rigger-backup-root'), [], 'no set, no .partial');

  // A zip whose member bytes were damaged: its CRC check fails on the full read.
  const bytes = readFileSync(f.zip);
  const at = bytes.indexOf(Buffer.from('gitea-db.sql')) + 40;
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(f.zip, bytes);
  const corrupt = runSet(f.root, f.env);
  assert.notEqual(corrupt.status, 0);
  assert.equal(corrupt.outcome.failure?.item, 'gitea-data_gitea');
  assert.match(corrupt.outcome.failure!.reason, /the zip does not read back/);
  assert.ok(!existsSync(path.join(f.root, `${corrupt.outcome.set}.partial`)));
  assert.deepEqual(readdirSync(f.root).filter((n) => n !== '.rigger' && n !== '.rigger-backup-root'), []);
});

test('gitea (fixture): recovery unpacks the dump into the layout of the Gitea image', async () => {
  const { GITEA_UNPACK } = await import('../../lib/recovery/restore-script.ts');
  const dir = scratchDir();
  const zip = path.join(dir, 'dump.zip');
  python(
    'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n  z.writestr("app.ini", "[server]\\n")\n  z.writestr("gitea-db.sql", "-- not used\\n")\n  z.writestr("data/avatars/1.png", "png")\n  z.writestr("repos/vibe/app.git/HEAD", "ref: refs/heads/main\\n")\n  z.writestr("custom/templates/home.tmpl", "hi")',
    zip,
  );
  // The volume, as the throwaway container sees it at /data; a stale file shows the copy adds, as Gitea's own restore does.
  const volume = path.join(dir, 'volume');
  mkdirSync(path.join(volume, 'gitea'), { recursive: true });
  const r = spawnSync('sh', ['-c', GITEA_UNPACK, 'gitea-restore', volume], { input: readFileSync(zip), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(path.join(volume, 'git/repositories/vibe/app.git/HEAD'), 'utf8'), 'ref: refs/heads/main\n');
  assert.equal(readFileSync(path.join(volume, 'gitea/avatars/1.png'), 'utf8'), 'png');
  assert.equal(readFileSync(path.join(volume, 'gitea/templates/home.tmpl'), 'utf8'), 'hi');
  assert.equal(readFileSync(path.join(volume, 'gitea/conf/app.ini'), 'utf8'), '[server]\n');
  assert.ok(!existsSync(path.join(volume, 'gitea-db.sql')), 'the database comes back from its own postgres item');
  assert.equal(r.stdout.trim(), '4', 'the files the volume holds');
});
