import assert from 'node:assert/strict';
import type { Fact } from '../../lib/model/fact.ts';
import { scratchRoot } from './scratch-root.ts';

/** A fact's own command run by dash and bash in a scratch root holding these files, and its parse of each run. */
export function gatherInRoot<F>(fact: Fact<F>, files: Record<string, string>): F[] {
  const root = scratchRoot(files);
  return (['dash', 'bash'] as const).map((shell) => {
    const r = root.run(shell, fact.command.bytes.toString());
    assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
    return fact.parse({ stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr), code: r.status ?? -1, durationMs: 0 });
  });
}
