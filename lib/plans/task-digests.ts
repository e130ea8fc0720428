import { containsSecret } from '../shell/secret.ts';
import type { DecisionMade } from '../runner/plan-hook.ts';
import { probeDigest } from '../runner/run-ahead.ts';
import type { Digester } from './keyed-digest.ts';

/** What a plan keeps of one decision, and what --apply compares with it. */
export interface DecisionDigests {
  decision: 'ok' | 'change' | 'skip' | 'fail';
  /** A read-only op changes nothing: --apply never judges it. */
  readOnly?: true;
  /** The probe output decided from (the run-ahead guard's digest, keyed); `none` for an op without a probe. */
  probe?: string;
  /**
   * The change decided, as it was reviewed: the op's kind, its message and
   * diff, and its parameters (the state it converges to; a Secret inside as
   * its keyed digest). Not the command bytes: they name a temp file from a
   * key of the controller process (ops/files/temp-name.ts), so they differ
   * from one run to the next. Same probe output and same parameters give
   * the same commands: decide is a pure function of the two.
   */
  change?: string;
  /** A Secret flows into this task and no passphrase keys the digests: decided again at apply. */
  decidedAgain?: true;
}

/**
 * Whether a Secret flows into the task's probe or change: the op was given
 * one (its probe then runs quietly, defineOp), or a command of its change is
 * quiet (it carries secret content).
 */
export function touchesSecret(made: DecisionMade): boolean {
  const d = made.decision;
  return (
    made.op.probe?.command.quiet === true ||
    containsSecret(made.op.params) ||
    (d.kind === 'change' && (d.commands ?? []).some((c) => c.quiet))
  );
}

export function decisionDigests(made: DecisionMade, digester: Digester): DecisionDigests {
  const d = made.decision;
  const out: DecisionDigests = { decision: d.kind, ...(made.op.readOnly ? { readOnly: true as const } : {}) };
  if (!digester.keyed && touchesSecret(made)) return { ...out, decidedAgain: true };
  out.probe = made.probed ? digester.digest('probe', probeDigest(made.probed)) : 'none';
  if (d.kind === 'change') {
    // The diff as the op made it (before any redaction): keyed like the rest, so a Secret inside is safe.
    out.change = digester.digest('change', made.op.kind, d.msg, JSON.stringify(d.diff ?? null), JSON.stringify(digester.canonical(made.op.params)) ?? '');
  }
  return out;
}
