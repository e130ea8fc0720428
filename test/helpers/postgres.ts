// A real PostgreSQL server of this machine's Debian packages, in a scratch
// directory, run as the postgres user (root is needed to switch to it). It
// listens on 127.0.0.1 and a free port with SCRAM password authentication,
// as the postgres image sets it for TCP: a restore that does not hand its
// password over fails here as it would on the cluster. Its Unix socket
// trusts local connections, as the image does inside the container: the
// stand-in `docker` below runs the ops' commands through it.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The non-root user the server runs as: the one Debian's postgresql package makes. */
const PG_USER = 'postgres';

/** The newest server Debian's postgresql package installed (15 on bookworm). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server under ${root}: install Debian's postgresql package (scripts/test-deps.sh does)`);
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

export interface TestPostgres {
  /** The TCP port on 127.0.0.1 (password authentication). */
  port: number;
  /** The directory of its Unix socket (trust authentication). */
  socketDir: string;
  /** Runs SQL as the superuser `postgres` over TCP with the password, and returns psql's unaligned output. */
  sql(database: string, query: string): string;
  /**
   * A directory holding a stand-in `docker` for the ops that reach PostgreSQL
   * in its container (`docker ps` finds one container, `docker exec [-i] ID
   * CMD...` runs CMD here against this server's socket): put it first in PATH.
   */
  dockerBin: string;
  /** Stops the server and removes its files. */
  stop(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const asPgUser = (args: string[]) => {
  const r = spawnSync('runuser', ['-u', PG_USER, '--', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}${r.stdout}`);
};

/** `serverOptions`: more of postgres's own, e.g. `-c shared_preload_libraries=pg_stat_statements` (read only at start). */
export async function startPostgres(password: string, serverOptions: string[] = []): Promise<TestPostgres> {
  if (process.getuid?.() !== 0) throw new Error('the test PostgreSQL is started as the postgres user: the test needs root');
  const bin = binDir();
  const work = mkdtempSync(path.join(tmpdir(), 'test-pg-'));
  chmodSync(work, 0o755);
  const data = path.join(work, 'data');
  const socketDir = path.join(work, 'socket');
  const pwfile = path.join(work, 'pw');
  const uid = Number(execFileSync('id', ['-u', PG_USER], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', PG_USER], { encoding: 'utf8' }));
  // The data directory must be the server user's and private; the socket's directory others may enter.
  for (const [d, mode] of [[data, 0o700], [socketDir, 0o755]] as const) {
    mkdirSync(d);
    chownSync(d, uid, gid);
    chmodSync(d, mode);
  }
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  asPgUser([path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  asPgUser([path.join(bin, 'pg_ctl'), '-D', data, '-l', path.join(data, 'server.log'), '-w', '-o', [`-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off`, ...serverOptions].join(' '), 'start']);
  const dockerBin = path.join(work, 'bin');
  mkdirSync(dockerBin);
  writeFileSync(
    path.join(dockerBin, 'docker'),
    `#!/bin/sh
# Stand-in docker for the test PostgreSQL: one running container, whose exec runs here.
case "$1" in
  ps) echo test-postgres ;;
  exec) shift; [ "$1" = -i ] && shift; shift; PGHOST='${socketDir}' PGPORT=${port} exec "$@" ;;
  *) echo "stand-in docker: $1 is not supported" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  return {
    port,
    socketDir,
    dockerBin,
    sql: (database, query) => {
      const r = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-c', query], {
        env: { ...process.env, PGPASSWORD: password },
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`psql ${database}: ${r.stderr}`);
      return r.stdout;
    },
    stop: () => {
      try {
        asPgUser([path.join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}
