import { $ } from 'zx';

$.verbose = false;

/**
 * The environment of every apt-get this machine's own tools run (the lab's
 * Docker engine, debootstrap, the benchmark's Ansible): no debconf dialog or
 * "delaying package configuration" note, and needrestart (installed on many
 * cloud images) neither asks, restarts services nor prints Perl warnings.
 */
export const QUIET_APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_SUSPEND: '1', LC_ALL: 'C' };

/**
 * Installs Debian packages on this machine without a word on success: apt's
 * output is kept and shown only when it fails (zx puts stdout and stderr in
 * the error). Stdin is closed so no tool finds a terminal to talk to.
 */
export async function aptInstall(packages: string[]): Promise<void> {
  const apt = $({ env: { ...process.env, ...QUIET_APT_ENV }, stdio: ['ignore', 'pipe', 'pipe'], quiet: true });
  await apt`apt-get update -qq`;
  await apt`apt-get install -y -qq -o Dpkg::Use-Pty=0 ${packages}`;
}
