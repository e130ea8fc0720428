// A real PostgreSQL server of this machine's Debian packages, in a
// scratch directory, run as the postgres user on 127.0.0.1 and a free port,
// with SCRAM password authentication over TCP as the postgres image sets it:
// a restore that does not hand its password over fails here as it would on
// the cluster.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { scratchDir } from './run.ts';

/** The newest server Debian's postgresql package installed (15 on bookworm). */
const BIN = (() => {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL server in /usr/lib/postgresql: scripts/test-deps.sh installs the postgresql package');
  return `/usr/lib/postgresql/${newest}/bin`;
})();

export interface TestPostgres {
  port: number;
  /** Runs SQL as the superuser `postgres` (password auth) and returns psql's unaligned output. */
  sql(database: string, query: string): string;
  stop(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export async function startPostgres(password: string): Promise<TestPostgres> {
  const dir = scratchDir();
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  const { uid, gid } = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
  chownSync(dir, uid, gid);
  chownSync(pwfile, uid, gid);
  const asPostgres = (args: string[]) => {
    const r = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}${r.stdout}`);
  };
  asPostgres([`${BIN}/initdb`, '-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync']);
  const port = await freePort();
  asPostgres([`${BIN}/pg_ctl`, '-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  return {
    port,
    sql: (database, query) => {
      const r = spawnSync('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-c', query], {
        env: { ...process.env, PGPASSWORD: password },
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`psql ${database}: ${r.stderr}`);
      return r.stdout;
    },
    stop: () => asPostgres([`${BIN}/pg_ctl`, '-D', data, '-m', 'immediate', 'stop']),
  };
}
