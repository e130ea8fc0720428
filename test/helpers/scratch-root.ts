// Runs a generated script under a scratch root file system, for scripts that
// name absolute paths a test must not create on this machine: DSM's
// /etc.defaults/VERSION, a container's /volume, Podman's
// /usr/libexec/podman/quadlet. The root is a fresh directory holding this
// machine's /usr, /etc and /dev (read-only bind mounts, /dev writable), the
// merged-/usr links (/bin -> usr/bin ...), its own /tmp, and the test's
// files, which shadow what the machine has at their paths (every other entry
// of a directory that holds one stays bound from the machine). The script
// runs chrooted there in a private mount namespace (`unshare --mount`), so
// nothing of it outlives the run. Needs root (the tests run as root).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quote } from '../../lib/core/quote.ts';
import { scratchDir } from './run.ts';

export interface RootFile {
  content: string | Buffer;
  /** 0o644 unless given; 0o755 for a stand-in program. */
  mode?: number;
}

export interface ScratchRoot {
  /** The root on this machine: a path P inside the root is `${dir}${P}`. */
  dir: string;
  /** Runs `shell -c script` chrooted in the root, with exactly this environment. */
  run(shell: 'dash' | 'bash', script: string, options?: { env?: Record<string, string>; input?: string | Buffer; args?: string[] }): SpawnSyncReturns<string>;
}

/** The machine's trees a script needs; /proc too unless the test puts files there. */
const HOST_TREES = ['/usr', '/etc', '/dev', '/proc'];
const WRITABLE = new Set(['/dev']);

export function scratchRoot(files: Record<string, RootFile | string | Buffer> = {}): ScratchRoot {
  const dir = scratchDir();
  const own = Object.keys(files);
  const under = (p: string) => own.some((f) => f.startsWith(`${p}/`) || f === p);
  const mounts: string[] = [];
  const bind = (hostPath: string) => {
    const target = `${dir}${hostPath}`;
    if (lstatSync(hostPath).isDirectory()) mkdirSync(target, { recursive: true });
    else writeFileSync(target, '');
    mounts.push(`mount --rbind ${q(hostPath)} ${q(target)}`);
    if (!WRITABLE.has(hostPath)) mounts.push(`mount -o remount,bind,ro ${q(target)}`);
  };
  // A directory holding a test file is made here; each of the machine's other entries in it is bound.
  const populate = (hostPath: string) => {
    if (!under(hostPath)) return bind(hostPath);
    mkdirSync(`${dir}${hostPath}`, { recursive: true });
    if (hostPath === '/proc' || !existsSync(hostPath)) return;
    for (const name of readdirSync(hostPath)) {
      const child = path.posix.join(hostPath, name);
      if (own.includes(child)) continue;
      const st = lstatSync(child);
      if (st.isSymbolicLink()) symlinkSync(readlinkSync(child), `${dir}${child}`);
      else if (st.isDirectory()) populate(child);
      else if (st.isFile()) bind(child);
    }
  };
  for (const name of readdirSync('/')) {
    const top = `/${name}`;
    if (lstatSync(top).isSymbolicLink() && !under(top)) symlinkSync(readlinkSync(top), `${dir}${top}`);
  }
  for (const tree of HOST_TREES) populate(tree);
  mkdirSync(`${dir}/tmp`);
  chmodSync(`${dir}/tmp`, 0o1777);
  for (const [p, f] of Object.entries(files)) {
    const { content, mode } = typeof f === 'string' || Buffer.isBuffer(f) ? { content: f, mode: 0o644 } : f;
    mkdirSync(path.dirname(`${dir}${p}`), { recursive: true });
    writeFileSync(`${dir}${p}`, content);
    chmodSync(`${dir}${p}`, mode ?? 0o644);
  }
  const setup = [...mounts, 'exec chroot "$0" "$@"'].join('\n');
  return {
    dir,
    run: (shell, script, options = {}) =>
      spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', setup, dir, `/usr/bin/${shell}`, '-c', script, shell, ...(options.args ?? [])], {
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...options.env },
        input: options.input ?? '',
        encoding: 'utf8',
      }),
  };
}

const q = (s: string) => quote(s).toString();
