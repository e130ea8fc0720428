import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

/**
 * A host for ops that change the firewall, on this machine without touching
 * it: a network namespace of its own (its own, empty iptables tables) and a
 * mount namespace with an empty /etc (a tmpfs, holding only what iptables
 * and the file writer read: alternatives, protocols, passwd, group; and
 * /etc/systemd/system, as a systemd host has). A local
 * host of the runner is put inside by a `sh` first on PATH that enters both
 * namespaces (nsenter fails, and nothing runs, if the sandbox is gone);
 * `systemctl` there only records its arguments, as the sandbox has no
 * systemd. Needs root (unshare, mount), as the firewall tests do.
 */
export interface Sandbox {
  /** Runs a shell script inside. */
  run(script: string): { stdout: string; code: number };
  /** What `systemctl` was called with inside, one call a line. */
  systemctlCalls(): string[];
  close(): void;
}

export async function netnsSandbox(): Promise<Sandbox> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-netns-'));
  const stash = path.join(dir, 'etc');
  const bin = path.join(dir, 'bin');
  const log = path.join(dir, 'systemctl.log');
  spawnSync('mkdir', ['-p', stash, bin]);
  writeFileSync(log, '');
  const holder = spawn('unshare', ['-m', '-n', 'sh', '-c', `cp -a /etc/alternatives /etc/protocols /etc/passwd /etc/group ${stash}/ && mount -t tmpfs tmpfs /etc && cp -a ${stash}/. /etc/ && mkdir -p /etc/systemd/system && echo ready && exec sleep infinity`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [first] = (await Promise.race([once(holder.stdout!, 'data'), once(holder, 'exit')])) as [Buffer | number];
  if (!Buffer.isBuffer(first) || !first.toString().includes('ready')) throw new Error('the sandbox did not start (unshare and mount need root)');
  const pid = holder.pid!;
  const enter = ['nsenter', '-t', String(pid), '-m', '-n'];
  writeFileSync(path.join(bin, 'sh'), `#!/bin/sh\nexec ${enter.join(' ')} /bin/sh "$@"\n`);
  writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${log}\n`);
  chmodSync(path.join(bin, 'sh'), 0o755);
  chmodSync(path.join(bin, 'systemctl'), 0o755);
  const oldPath = process.env.PATH;
  // The local transport spawns `sh` from PATH: this one.
  process.env.PATH = `${bin}:${oldPath}`;
  return {
    run: (script) => {
      const r = spawnSync(enter[0]!, [...enter.slice(1), '/bin/sh', '-c', script], { encoding: 'utf8' });
      return { stdout: r.stdout, code: r.status ?? -1 };
    },
    systemctlCalls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    close: () => {
      process.env.PATH = oldPath;
      holder.kill('SIGKILL');
    },
  };
}
