import { userInfo } from 'node:os';
import type { Become } from './types.ts';

/**
 * The program and arguments that run `sh ARGV...` on this machine as the
 * user `become` asks for. Without become, or when it names the user rigger
 * runs as, sh itself. As root, runuser (util-linux; no password, and it sets
 * HOME, USER and LOGNAME of the target user as sudo does). Otherwise sudo,
 * non-interactive: it fails, never prompts, when it would need a password.
 * An unknown user fails in runuser or sudo with its name; it never falls
 * back to running as rigger's own user.
 */
export function localCommand(shArgs: readonly string[], become: Become | undefined): { file: string; args: string[] } {
  if (!become || become.user === currentUser()) return { file: 'sh', args: [...shArgs] };
  if (process.getuid?.() === 0) return { file: 'runuser', args: ['-u', become.user, '--', 'sh', ...shArgs] };
  return { file: 'sudo', args: ['-n', '-u', become.user, '--', 'sh', ...shArgs] };
}

/** The name of the user this process runs as, from the user database (not $USER, which anyone can set). */
function currentUser(): string {
  return userInfo().username;
}
