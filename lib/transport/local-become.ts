import { userInfo } from 'node:os';
import type { Become } from './types.ts';

/** sudo's default `secure_path` on Debian: the PATH a command run as another user gets. */
const SECURE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Variables kept for another user, as sudo's env_reset keeps the locale and terminal. */
const KEPT = /^(LANG|LANGUAGE|LC_[A-Z_]+|TERM|TZ)$/;

/**
 * The program, arguments and environment that run `sh ARGV...` on this
 * machine as the user `become` asks for. Without become, or when it names
 * the user rigger runs as, sh itself with `env`. As root, runuser
 * (util-linux; it sets HOME, SHELL, USER and LOGNAME of the target user)
 * with an environment reset as sudo resets it: rigger's own environment
 * (credentials of whoever runs it included) would otherwise be readable by
 * every process of the target user in /proc/PID/environ. Otherwise sudo,
 * non-interactive: it fails, never prompts, when it would need a password.
 * An unknown user fails in runuser or sudo with its name; it never falls
 * back to running as rigger's own user.
 */
export function localCommand(shArgs: readonly string[], become: Become | undefined, env: NodeJS.ProcessEnv): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (!become || become.user === currentUser()) return { file: 'sh', args: [...shArgs], env };
  if (process.getuid?.() === 0) return { file: 'runuser', args: ['-u', become.user, '--', 'sh', ...shArgs], env: resetEnv(env) };
  return { file: 'sudo', args: ['-n', '-u', become.user, '--', 'sh', ...shArgs], env };
}

function resetEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: SECURE_PATH };
  for (const [name, value] of Object.entries(env)) if (KEPT.test(name)) out[name] = value;
  return out;
}

/** The name of the user this process runs as, from the user database (not $USER, which anyone can set). */
function currentUser(): string {
  return userInfo().username;
}
