import { createHmac, randomBytes } from 'node:crypto';

/**
 * The name of a file's temp file beside its target (`.rigger.` + this), chosen
 * on the controller and sent on stdin: another user who can write the target
 * directory must not be able to guess it and plant a link there first (a name
 * from the host shell's pid could be guessed; dash has no random numbers, and
 * `mktemp` would cost a program per file).
 *
 * An HMAC under a key drawn once per controller process: unpredictable
 * without the key, yet the same for the same write, as a decision must be a
 * pure function of what the probe read (run-ahead compares the commands a
 * task decides, stdin included, byte for byte). Eight letters and digits, the
 * shape `.rigger.????????` that the stale-temp sweep matches; about 47 bits.
 * From the path and the file's place in its call only, never the content:
 * a name others can list must be no function of a Secret.
 */
let key: Buffer = randomBytes(32);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * --plan and --apply key the names from the plan instead (plans/command-key.ts, set by cli/plan-run.ts),
 * so a planned change sends the same bytes at apply as at plan, and a plan
 * can be bound to those bytes. Set before any task decides.
 */
export function keyTempNames(planKey: Buffer): void {
  key = planKey;
}

export function tempName(path: string, index: number): string {
  const mac = createHmac('sha256', key).update(`${index}\0${path}`).digest();
  let name = '';
  for (let i = 0; i < 8; i++) name += ALPHABET[mac[i]! % ALPHABET.length];
  return name;
}
