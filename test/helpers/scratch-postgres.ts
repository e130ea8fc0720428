import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The non-root user the scratch cluster runs as: the one Debian's postgresql package makes. */
const PG_USER = 'postgres';

export interface ScratchPostgres {
  /** The directory of its Unix socket (it listens on no TCP port). */
  socketDir: string;
  port: number;
  /** psql as the superuser `postgres`, the output unaligned: for the test's own setup and reads. */
  psql(sql: string): string;
  /**
   * A directory holding a stand-in `docker` for the ops that reach PostgreSQL
   * in its container (`docker ps` finds one container, `docker exec [-i] ID
   * CMD...` runs CMD here against this cluster): put it first in PATH.
   */
  dockerBin: string;
  stop(): void;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server under ${root}: install Debian's postgresql package (scripts/test-deps.sh does)`);
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

const asPgUser = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', PG_USER, '--', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * A throwaway PostgreSQL cluster (initdb + pg_ctl as the postgres user, so
 * root is not needed by the server; root is needed to switch to it), on a
 * Unix socket in a fresh directory, trust authentication for local
 * connections. stop() stops it and removes its files.
 */
export function startScratchPostgres(): ScratchPostgres {
  if (process.getuid?.() !== 0) throw new Error('the scratch PostgreSQL is started as the postgres user: the test needs root');
  const bin = binDir();
  const work = mkdtempSync(path.join(tmpdir(), 'scratch-pg-'));
  chmodSync(work, 0o755);
  const data = path.join(work, 'data');
  const socketDir = path.join(work, 'socket');
  const uid = Number(execFileSync('id', ['-u', PG_USER], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', PG_USER], { encoding: 'utf8' }));
  // The data directory must be the server user's and private; the socket's directory others may enter.
  for (const [d, mode] of [[data, 0o700], [socketDir, 0o755]] as const) {
    mkdirSync(d);
    chownSync(d, uid, gid);
    chmodSync(d, mode);
  }
  // Only the socket's file name: the server listens on no TCP port, so no two runs can collide.
  const port = 5432;
  asPgUser(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  asPgUser(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(data, 'server.log'), '-w', '-o', `-k ${socketDir} -p ${port} -c listen_addresses=''`, 'start']);
  const dockerBin = path.join(work, 'bin');
  mkdirSync(dockerBin);
  writeFileSync(
    path.join(dockerBin, 'docker'),
    `#!/bin/sh
# Stand-in docker for the scratch PostgreSQL: one running container, whose exec runs here.
case "$1" in
  ps) echo scratch-postgres ;;
  exec) shift; [ "$1" = -i ] && shift; shift; PGHOST='${socketDir}' PGPORT=${port} exec "$@" ;;
  *) echo "stand-in docker: $1 is not supported" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  return {
    socketDir,
    port,
    dockerBin,
    psql: (sql) => execFileSync('psql', ['-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }),
    stop: () => {
      try {
        asPgUser(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}
