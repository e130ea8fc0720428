// The lab's PostgreSQL image entrypoint (scripts/lab/services.ts), run here
// with this machine's Debian PostgreSQL 15 (the package the image installs):
// as the postgres image's docker-entrypoint.sh, a stack's `command:` reaches
// it as arguments (stacks/gateway.yml's `postgres -c
// shared_preload_libraries=pg_stat_statements`), bare `-c` options are
// postgres's, and any other command runs as given without touching the data.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../helpers/sshd.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { POSTGRES_ENTRYPOINT } from '../../scripts/lab/services.ts';
import { waitFor } from '../helpers/data-node.ts';

const work = mkdtempSync(path.join(tmpdir(), 'lab-pg-entrypoint-'));
chmodSync(work, 0o755);
const script = path.join(work, 'entrypoint.sh');
writeFileSync(script, POSTGRES_ENTRYPOINT, { mode: 0o755 });
const pwfile = path.join(work, 'pw');
writeFileSync(pwfile, 'lab password\n');
const running: ChildProcess[] = [];
after(async () => {
  for (const p of running) {
    if (p.exitCode !== null) continue;
    p.kill('SIGINT');
    await new Promise((r) => p.once('exit', r));
  }
  rmSync(work, { recursive: true, force: true });
});

test('another command runs as given, and the data directory is not made', () => {
  const data = path.join(work, 'untouched');
  const r = spawnSync('sh', [script, 'echo', 'as given'], { env: { ...process.env, PGDATA: data }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'as given\n');
  assert.equal(existsSync(data), false);
});

for (const [name, args] of [
  ['`postgres ARGS` (a stack command)', ['postgres', '-c', 'shared_preload_libraries=pg_stat_statements']],
  ['bare postgres options', ['-c', 'shared_preload_libraries=pg_stat_statements']],
] as const) {
  test(`${name}: initdb on first start, then postgres with the arguments: the library is preloaded`, async () => {
    assert.equal(process.getuid?.(), 0, 'the entrypoint switches to the postgres user, as in the image: the test needs root (as test/helpers/postgres.ts)');
    const dir = mkdtempSync(path.join(work, 'run-'));
    chmodSync(dir, 0o755);
    const socket = path.join(dir, 'socket');
    mkdirSync(socket);
    spawnSync('chown', ['postgres:postgres', socket]);
    const port = await freePort();
    const env = { ...process.env, PGDATA: path.join(dir, 'data'), POSTGRES_PASSWORD_FILE: pwfile, POSTGRES_USER: 'vibe', POSTGRES_DB: 'vibedb' };
    const server = spawn('sh', [script, ...args, '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socket}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    running.push(server);
    let log = '';
    server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor('the server accepts connections', async () => spawnSync('pg_isready', ['-q', '-h', socket, '-p', String(port)]).status === 0, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${log}`);
    });
    const show = spawnSync('psql', ['-X', '-At', '-h', socket, '-p', String(port), '-U', 'vibe', '-d', 'vibedb', '-c', 'SHOW shared_preload_libraries'], { encoding: 'utf8' });
    assert.equal(show.stdout.trim(), 'pg_stat_statements', show.stderr);
    server.kill('SIGINT');
    await new Promise((r) => server.once('exit', r));
  });
}
