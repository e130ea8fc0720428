import { Secret } from '../shell/secret.ts';
import { VaultText } from './yaml-nodes.ts';
import { hostAddressProblem } from './host-address.ts';

/**
 * Ansible's behavioural inventory variables that rigger reads, and the
 * others it accepts as written. Anything else starting with `ansible_` is
 * reported as a likely typo rather than silently ignored.
 */
type Check = (v: unknown) => string | undefined;

const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'expected a non-empty string');
/**
 * Ansible's boolean spellings (lib/ansible/module_utils/parsing/convert_bool.py,
 * compared case-insensitively). Accepted in YAML too: PyYAML reads `y`, `n`,
 * `t`, `f` and a quoted "yes" as strings and 1/0 as numbers, and Ansible
 * converts them all when it becomes.
 */
const TRUE_WORDS = ['yes', 'on', '1', 'true', 'y', 't'];
const BOOL_WORDS = [...TRUE_WORDS, 'no', 'off', '0', 'false', 'n', 'f'];
export function ansibleBoolean(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && TRUE_WORDS.includes(v.toLowerCase()));
}
const bool: Check = (v) =>
  typeof v === 'boolean' || v === 0 || v === 1 || (typeof v === 'string' && BOOL_WORDS.includes(v.toLowerCase()))
    ? undefined
    : 'expected true or false (or a word Ansible reads as one: yes/no, on/off, y/n, t/f, 1/0)';
const strOrSecret: Check = (v) => (typeof v === 'string' || v instanceof Secret || v instanceof VaultText ? undefined : 'expected a string or a !vault value');
const port: Check = (v) => {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535
    ? undefined
    : `expected a port number from 1 to 65535, got ${JSON.stringify(v)}`;
};
const address: Check = (v) => str(v) ?? hostAddressProblem(v as string);
const int: Check = (v) => (typeof v === 'number' && Number.isInteger(v) ? undefined : 'expected an integer');
const anything: Check = () => undefined;

export const CONNECTION_VARS: Record<string, Check> = {
  ansible_host: address,
  ansible_port: port,
  ansible_user: str,
  ansible_ssh_private_key_file: str,
  ansible_password: strOrSecret,
  ansible_ssh_pass: strOrSecret,
  ansible_become: bool,
  ansible_become_user: str,
  ansible_become_method: (v) => (v === 'sudo' ? undefined : 'only sudo is supported as become method'),
  ansible_become_password: strOrSecret,
  ansible_become_pass: strOrSecret,
  ansible_connection: (v) => (v === 'ssh' || v === 'local' ? undefined : 'expected ssh or local'),
  ansible_ssh_common_args: str,
  ansible_ssh_extra_args: str,
  ansible_group_priority: int,
  // Accepted for compatibility; rigger has no use for them.
  ansible_python_interpreter: anything,
  ansible_shell_type: anything,
  ansible_shell_executable: anything,
  ansible_ssh_pipelining: anything,
  ansible_pipelining: anything,
  ansible_timeout: anything,
  ansible_ssh_timeout: anything,
  ansible_host_key_checking: anything,
};

export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = distance(name, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/** Why a variable is invalid, or undefined when it is fine. */
export function checkVariable(name: string, value: unknown): string | undefined {
  if (!VAR_NAME.test(name)) return `invalid variable name ${JSON.stringify(name)}: use letters, digits and _`;
  const check = CONNECTION_VARS[name];
  if (check) {
    const problem = check(value);
    return problem ? `${name}: ${problem}` : undefined;
  }
  if (name.startsWith('ansible_')) {
    const guess = closest(name, Object.keys(CONNECTION_VARS));
    return `unknown connection variable ${name}${guess ? ` (did you mean ${guess}?)` : ''}`;
  }
  return undefined;
}
