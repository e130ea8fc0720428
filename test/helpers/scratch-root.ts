// Runs a generated script under a scratch root file system, for scripts that
// name absolute paths a test must not create on this machine: DSM's
// /etc.defaults/VERSION, a container's /volume, Podman's
// /usr/libexec/podman/quadlet, /etc/caddy. The root is a fresh directory
// holding this machine's /usr, /dev and /proc (bind mounts, /usr
// read-only), the merged-/usr links (/bin -> usr/bin ...), its own /tmp, and
// the test's files. /etc is this machine's, read-only, unless the test puts
// files there or asks for it writable: then it is a copy. Files under /usr
// lie over the machine's through an overlay mount whose writable layer is a
// tmpfs of the run (a script's writes there are dropped); files under /proc make a
// /proc that holds only them. The script runs chrooted there in a private
// mount namespace (`unshare --mount`), so no mount outlives it. Needs root
// (the tests run as root).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quote } from '../../lib/shell/quote.ts';
import { scratchDir } from './run.ts';

export interface RootFile {
  content: string | Buffer;
  /** 0o644 unless given; 0o755 for a stand-in program. */
  mode?: number;
}

export interface ScratchRoot {
  /** The root on this machine: a path P inside the root, outside /usr, /dev and /proc, is `${dir}${P}`. */
  dir: string;
  /** Runs `shell -c script` chrooted in the root, with exactly this environment. */
  run(shell: 'dash' | 'bash', script: string, options?: { env?: Record<string, string>; input?: string | Buffer; args?: string[] }): SpawnSyncReturns<string>;
}

const q = (s: string) => quote(s).toString();

/** `writable`: /etc as a copy the script can change even when the test puts no file there. */
export function scratchRoot(files: Record<string, RootFile | string | Buffer> = {}, options: { writable?: boolean } = {}): ScratchRoot {
  const dir = scratchDir();
  const under = (tree: string) => Object.keys(files).some((f) => f.startsWith(`${tree}/`));
  const mounts: string[] = [];
  const bind = (tree: string, readOnly: boolean) => {
    mkdirSync(`${dir}${tree}`);
    mounts.push(`mount --rbind ${q(tree)} ${q(`${dir}${tree}`)}`);
    if (readOnly) mounts.push(`mount -o remount,bind,ro ${q(`${dir}${tree}`)}`);
  };
  for (const name of readdirSync('/')) {
    if (lstatSync(`/${name}`).isSymbolicLink()) symlinkSync(readlinkSync(`/${name}`), `${dir}/${name}`);
  }
  // Where each test file is written on this machine: /usr's are copied into the overlay's upper layer at each run.
  const hostPath = (p: string) => (p.startsWith('/usr/') ? `${dir}/.usr-files${p.slice(4)}` : `${dir}${p}`);
  if (under('/usr')) {
    // The layers on a tmpfs: an overlay's upper layer cannot be on an overlay (a container's /tmp), and what a script writes in /usr is dropped.
    for (const d of ['usr', '.usr-files', '.usr-layers']) mkdirSync(`${dir}/${d}`);
    const layers = `${dir}/.usr-layers`;
    mounts.push(
      `mount -t tmpfs tmpfs ${q(layers)}`,
      `mkdir ${q(`${layers}/upper`)} ${q(`${layers}/work`)}`,
      `cp -a ${q(`${dir}/.usr-files/.`)} ${q(`${layers}/upper/`)}`,
      `mount -t overlay overlay -o ${q(`lowerdir=/usr,upperdir=${layers}/upper,workdir=${layers}/work`)} ${q(`${dir}/usr`)}`,
    );
  } else bind('/usr', true);
  if (under('/etc') || options.writable) cpSync('/etc', `${dir}/etc`, { recursive: true, verbatimSymlinks: true });
  else bind('/etc', true);
  bind('/dev', false);
  if (under('/proc')) mkdirSync(`${dir}/proc`);
  else bind('/proc', false);
  mkdirSync(`${dir}/tmp`);
  chmodSync(`${dir}/tmp`, 0o1777);
  for (const [p, f] of Object.entries(files)) {
    const { content, mode } = typeof f === 'string' || Buffer.isBuffer(f) ? { content: f, mode: 0o644 } : f;
    mkdirSync(path.dirname(hostPath(p)), { recursive: true });
    writeFileSync(hostPath(p), content);
    chmodSync(hostPath(p), mode ?? 0o644);
  }
  const setup = [...mounts, 'exec chroot "$0" "$@"'].join('\n');
  return {
    dir,
    run: (shell, script, runOptions = {}) =>
      spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', setup, dir, `/usr/bin/${shell}`, '-c', script, shell, ...(runOptions.args ?? [])], {
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...runOptions.env },
        input: runOptions.input ?? '',
        encoding: 'utf8',
      }),
  };
}
