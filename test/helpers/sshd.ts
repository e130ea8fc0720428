import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { defaultSshOptions, SshTransport, type SshOptions } from '../../lib/transport/ssh.ts';

/**
 * A real OpenSSH sshd on a loopback address, with generated host and client
 * keys, for transport and runner tests. Nothing is mocked.
 */
export interface TestSshd {
  address: string;
  port: number;
  user: string;
  dir: string;
  clientKey: string;
  hostPublicKey: string;
  logFile: string;
  /** A known_hosts file that pins this sshd's key. */
  knownHostsFile: string;
  log(): string;
  /** Kills the listener and every session it forked, as a dead host would. */
  kill(): void;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, address, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(address: string, port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${readFileSync(logFile, 'utf8')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, address, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`sshd did not listen on ${address}:${port}`);
}

export function descendants(root: number): number[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=']).toString().trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of table) if (ppid === parent) (out.push(pid!), queue.push(pid!));
  }
  return out;
}

export interface SshdOptions {
  address?: string;
  clientKey?: string;
  extraConfig?: string[];
  /** Environment for every session (sshd reads only its first SetEnv line, so they share it). */
  env?: Record<string, string>;
  /**
   * A directory only this host sees: sshd runs in a mount namespace of its
   * own where `at` (an existing, empty directory) is `source` bind-mounted;
   * every other process (the other hosts, the test) sees the empty `at`.
   * For two "hosts" on one machine that must not share a path.
   */
  privateDir?: { at: string; source: string };
}

export function makeClientKey(dir: string): string {
  const key = path.join(dir, 'id_ed25519');
  if (!existsSync(key)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  return key;
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const address = options.address ?? '127.0.0.1';
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-sshd-'));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'host_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const clientKey = options.clientKey ?? makeClientKey(dir);
  const authorized = path.join(dir, 'authorized_keys');
  // sshd reads authorized_keys as the logging-in user, who may not be root
  // (the become tests): the dir is traversable, private keys stay 0600.
  writeFileSync(authorized, readFileSync(clientKey + '.pub'), { mode: 0o644 });
  chmodSync(dir, 0o711);
  const port = await freePort(address);
  const logFile = path.join(dir, 'sshd.log');
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'LogLevel DEBUG1',
      'MaxSessions 10',
      'MaxStartups 100:30:200',
      'AllowTcpForwarding yes',
      'Subsystem sftp internal-sftp',
      // bash sources ~/.bashrc for every sshd session when SHLVL < 2; this machine's
      // root .bashrc runs pyenv init (~100 ms), which would swamp every timing.
      ['SetEnv SHLVL=1', ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`)].join(' '),
      ...(options.extraConfig ?? []),
    ].join('\n') + '\n',
  );
  const sshd = [SSHD, '-D', '-f', config, '-E', logFile];
  const own = options.privateDir;
  const child = own
    ? spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" "$1" && shift && exec "$@"', own.source, own.at, ...sshd], { stdio: 'ignore' })
    : spawn(sshd[0]!, sshd.slice(1), { stdio: 'ignore' });
  await waitForPort(address, port, child, logFile);
  const hostPublicKey = readFileSync(hostKey + '.pub', 'utf8').trim();
  const [type, b64] = hostPublicKey.split(/\s+/);
  const knownHostsFile = path.join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[${address}]:${port} ${type} ${b64}\n`);
  const killAll = () => {
    // A dead host: the listener, every session (their titles no longer name
    // the config) and every command they started, found by parent pid.
    for (const pid of [child.pid!, ...descendants(child.pid!)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  return {
    address,
    port,
    user: userInfo().username,
    dir,
    clientKey,
    hostPublicKey,
    logFile,
    knownHostsFile,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    kill: killAll,
    stop: async () => {
      killAll();
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An sshd whose sessions have a TMPDIR of their own (WORK/remote-tmp), so
 * what a run leaves there is this test's; WORK is the test's scratch dir.
 */
export async function startSshdWithOwnTmp(prefix: string): Promise<{ sshd: TestSshd; work: string; remoteTmp: string }> {
  const work = mkdtempSync(path.join(tmpdir(), prefix));
  const remoteTmp = path.join(work, 'remote-tmp');
  mkdirSync(remoteTmp);
  return { sshd: await startSshd({ env: { TMPDIR: remoteTmp } }), work, remoteTmp };
}

/** A transport to the sshd as its user, with its client key and its host key pinned (strict), as name. */
export function transportTo(sshd: TestSshd, options: Partial<SshOptions> = {}, name = 'h'): SshTransport {
  return new SshTransport(
    { name, address: sshd.address, port: sshd.port, user: sshd.user, privateKeyFile: sshd.clientKey },
    { ...defaultSshOptions(sshd.knownHostsFile, 'strict'), ...options },
  );
}

/** An inventory file whose hosts are test sshd instances, pinned in one known_hosts file. */
export function sshInventory(hosts: { name: string; sshd: TestSshd; vars?: string[] }[], header = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-sshinv-'));
  const known = path.join(dir, 'known_hosts');
  writeFileSync(known, hosts.map((h) => readFileSync(h.sshd.knownHostsFile, 'utf8')).join(''));
  const lines = ['all:', '  vars:', `    rigger_known_hosts_file: ${known}`, '    ansible_user: root', header, '  hosts:'];
  for (const h of hosts) {
    lines.push(
      `    ${h.name}:`,
      `      ansible_host: ${h.sshd.address}`,
      `      ansible_port: ${h.sshd.port}`,
      `      ansible_ssh_private_key_file: ${h.sshd.clientKey}`,
      ...(h.vars ?? []).map((v) => `      ${v}`),
    );
  }
  const file = path.join(dir, 'hosts.yml');
  writeFileSync(file, lines.filter((l) => l !== '').join('\n') + '\n');
  return file;
}
