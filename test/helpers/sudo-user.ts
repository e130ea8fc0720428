import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';

/**
 * A throwaway local user whose sudo asks for a password, for the become
 * tests. Needs root and sudo (installed by .ci/run). Removed by cleanup().
 */
export const SUDO_USER = 'riggerbecome';

export function createSudoUser(password: string): () => void {
  if (process.getuid?.() !== 0) throw new Error('the become tests need root to create a sudo user');
  try {
    execFileSync('id', [SUDO_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', SUDO_USER]);
  }
  execFileSync('chpasswd', { input: `${SUDO_USER}:${password}\n` });
  const rule = `/etc/sudoers.d/${SUDO_USER}`;
  // A password is required (no NOPASSWD), and no cached timestamp between commands.
  writeFileSync(rule, `Defaults:${SUDO_USER} timestamp_timeout=0\n${SUDO_USER} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 });
  execFileSync('visudo', ['-cf', rule]);
  return () => {
    if (existsSync(rule)) rmSync(rule);
    try {
      execFileSync('userdel', ['-r', SUDO_USER], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  };
}
