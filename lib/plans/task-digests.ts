import { containsSecret, redact } from '../shell/secret.ts';
import type { DecisionMade } from '../runner/plan-hook.ts';
import { commandsKey, probeDigest } from '../runner/run-ahead.ts';
import type { Digester } from './keyed-digest.ts';

/** What a plan keeps of one decision, and what --apply compares with it. */
export interface DecisionDigests {
  decision: 'ok' | 'change' | 'skip' | 'fail';
  /** A read-only op changes nothing: --apply never judges it, so the plan keeps no digest of it (a read of join tokens). */
  readOnly?: true;
  /** The probe output decided from (the run-ahead guard's digest, keyed); `none` for an op without a probe. */
  probe?: string;
  /**
   * The change decided, as it was reviewed and as it will be sent: the op's
   * kind, its message and diff, its parameters (the state it converges to;
   * a Secret inside as its keyed digest), and the bytes of its commands. The
   * temp file names inside them are keyed from the plan (command-key.ts), so
   * the same decision sends the same bytes at apply. A quiet command (it
   * carries a Secret, and may salt it afresh each run: a SCRAM verifier, a
   * docker secret's label) counts by its place only: its Secret is in the
   * parameters' digest.
   */
  change?: string;
  /** A Secret flows into this task and no passphrase keys the digests: decided again at apply. */
  decidedAgain?: true;
}

/** What an unkeyed digest would be a function of: the probe output, the diff, the commands. */
function heldText(made: DecisionMade): string[] {
  const d = made.decision;
  const out: string[] = [];
  if (made.probed) out.push(made.probed.stdout.toString('latin1'), made.probed.stdout.toString('utf8'), made.probed.stderr.toString('utf8'));
  if (d.kind === 'change') {
    out.push(JSON.stringify(d.diff ?? null));
    for (const c of d.commands ?? []) if (!c.quiet) out.push(commandsKey([c]).toString('utf8'));
  }
  return out;
}

/**
 * Whether a Secret flows into the task's probe or change: the op was given
 * one (its probe then runs quietly, defineOp), a command of its change is
 * quiet (it carries secret content), its result holds one (a read of a
 * token), or its probe output, diff or commands hold a value known to be
 * secret in any of its forms (a file that holds one by hand).
 */
export function touchesSecret(made: DecisionMade): boolean {
  const d = made.decision;
  return (
    made.op.probe?.command.quiet === true ||
    containsSecret(made.op.params) ||
    (d.kind === 'change' && (d.commands ?? []).some((c) => c.quiet)) ||
    containsSecret(d.kind === 'ok' ? d.result : d.kind === 'change' ? d.checkResult : undefined) ||
    heldText(made).some((t) => redact(t) !== t)
  );
}

export function decisionDigests(made: DecisionMade, digester: Digester): DecisionDigests {
  const d = made.decision;
  if (made.op.readOnly) return { decision: d.kind, readOnly: true };
  const out: DecisionDigests = { decision: d.kind };
  if (!digester.keyed && touchesSecret(made)) return { ...out, decidedAgain: true };
  out.probe = made.probed ? digester.digest('probe', probeDigest(made.probed)) : 'none';
  if (d.kind === 'change') {
    const commands = (d.commands ?? []).map((c) => (c.quiet ? Buffer.from('(quiet)') : commandsKey([c])));
    // The diff as the op made it (before any redaction): keyed like the rest, so a Secret inside is safe.
    out.change = digester.digest(
      'change',
      made.op.kind,
      d.msg,
      JSON.stringify(d.diff ?? null),
      JSON.stringify(digester.canonical(made.op.params)) ?? '',
      d.apply ? 'apply' : 'commands',
      ...commands,
    );
  }
  return out;
}
