import { createHash } from 'node:crypto';
import { groupForExec } from '../shell/command.ts';
import { OpFailure, type Decision, type Op, type Probe, type Remote } from '../model/op.ts';
import { opWaitKind, type WaitKind } from '../model/profile.ts';
import { batchScript, splitBatch } from '../runner/probe-batch.ts';
import type { ExecResult } from '../transport/types.ts';
import { filesOf, putFiles } from './files/put-files.ts';

type Change = Extract<Decision<unknown>, { kind: 'change' }>;

/** The changes from `start` on that are each one call of the file writer and nothing else. */
function writesFrom<R>(decisions: Decision<R>[], start: number): Extract<Decision<R>, { kind: 'change' }>[] {
  const run: Extract<Decision<R>, { kind: 'change' }>[] = [];
  for (const d of decisions.slice(start)) {
    if (d.kind !== 'change' || d.apply || d.commands?.length !== 1 || !filesOf(d.commands[0]!)) break;
    run.push(d);
  }
  return run;
}

/** Runs a change's commands (grouped into execs as the runner does) or its apply. */
async function applyOne(c: Change, remote: Remote): Promise<unknown> {
  if (c.apply) return c.apply(remote);
  let last: ExecResult | undefined;
  for (const command of groupForExec(c.commands ?? [])) last = await remote.check(command);
  return c.result && last ? c.result(last) : c.checkResult;
}

/**
 * An op run to the end inside another's apply (a strategy's steps): its
 * probe, its decision, and its change when there is one. Returns whether
 * it changed anything, and its result.
 */
export async function runOp<R>(remote: Remote, op: Op<R, any>): Promise<{ changed: boolean; result: R }> {
  if (op.problems.length) throw new OpFailure(`${op.kind}: ${op.problems.map((p) => `${p.param}: ${p.message}`).join('; ')}`);
  const state = op.probe ? op.probe.parse(await remote.run(op.probe.command)) : undefined;
  const d = op.decide(state);
  if (d.kind === 'fail') throw new OpFailure(`${op.describe()}: ${d.reason}`);
  if (d.kind === 'skip') throw new OpFailure(`${op.describe()}: skipped: ${d.reason}`);
  if (d.kind === 'ok') return { changed: false, result: d.result };
  const result = (await applyOne(d as Change, remote)) as R;
  // As each() and the runner do: a change that turned out to change nothing is not one.
  return { changed: !(d.unchanged?.(result) ?? false), result };
}

/** --profile: the members' common wait, when they all wait on the same software. */
function commonWait(members: Op<unknown, any>[]): WaitKind | undefined {
  const kinds = new Set(members.map(opWaitKind));
  return kinds.size === 1 ? [...kinds][0] : undefined;
}

/**
 * One task for a list that comes from variables (networks, secrets,
 * stacks): the members' probes share one round trip, each member decides
 * on its own state, and the changes run in order. The task fails if any
 * member would fail, before anything changes.
 */
export function each<R>(kind: string, members: Op<R, any>[]): Op<R[], ExecResult[]> {
  const problems = members.flatMap((m) => m.problems);
  const probed = members.map((m) => m.probe).filter((p): p is Probe<unknown> => p !== undefined);
  // The marker follows from the probes themselves: the runner builds an op
  // twice (once ahead, to batch its probe), and both must parse alike.
  const marker = `@@each-${createHash('sha256').update(Buffer.concat(probed.map((p) => p.command.bytes))).digest('hex').slice(0, 16)}`;
  const batch = probed.length ? batchScript(probed.map((p) => p.command), marker) : undefined;
  const op: Op<R[], ExecResult[]> = {
    kind,
    params: members.map((m) => m.params),
    problems,
    describe: () => `${kind}: ${members.map((m) => m.describe()).join(', ') || '(none)'}`,
    readOnly: members.every((m) => m.readOnly),
    // --profile: the members' common wait (every stack deploy waits on Docker).
    waitKind: commonWait(members),
    decide: (outputs: ExecResult[]): Decision<R[]> => {
      let i = 0;
      const decisions = members.map((m) => m.decide(m.probe ? m.probe.parse(outputs[i++]!) : undefined));
      const failed = decisions.flatMap((d) => (d.kind === 'fail' ? [d.reason] : []));
      if (failed.length) return { kind: 'fail', reason: failed.join('\n') };
      const resultOf = (d: Decision<R>): R | undefined => (d.kind === 'ok' ? d.result : d.kind === 'change' ? d.checkResult : undefined);
      const notes = decisions.flatMap((d) => (d.kind === 'ok' && d.msg ? [d.msg] : []));
      const changes = decisions.filter((d): d is Extract<Decision<R>, { kind: 'change' }> => d.kind === 'change');
      if (changes.length === 0) return { kind: 'ok', result: decisions.map(resultOf) as R[], ...(notes.length ? { msg: notes.join('; ') } : {}) };
      const unchanged: boolean[] = [];
      return {
        kind: 'change',
        msg: [...changes.map((c) => c.msg), ...notes].join('; '),
        diff: { kind: 'summary', lines: changes.flatMap((c) => (c.diff?.kind === 'summary' ? c.diff.lines : [c.msg])) },
        apply: async (remote) => {
          const results: R[] = [];
          for (let i = 0; i < decisions.length; ) {
            const d = decisions[i]!;
            if (d.kind !== 'change') {
              results.push(resultOf(d) as R);
              i++;
              continue;
            }
            // Members in a row that only write files (release files, env files)
            // share one call of the file writer: one round trip, all or none.
            const writes = writesFrom(decisions, i);
            if (writes.length > 1) {
              const out = await remote.check(putFiles(writes.flatMap((w) => filesOf(w.commands![0]!)!)));
              for (const w of writes) {
                const r = (w.result ? w.result(out) : w.checkResult) as R;
                unchanged.push(w.unchanged?.(r) ?? false);
                results.push(r);
              }
              i += writes.length;
              continue;
            }
            const r = (await applyOne(d as Change, remote)) as R;
            unchanged.push(d.unchanged?.(r) ?? false);
            results.push(r);
            i++;
          }
          return results;
        },
        unchanged: () => unchanged.length > 0 && unchanged.every(Boolean),
        checkResult: decisions.map(resultOf) as R[],
        ...(changes.some((c) => c.unpredictable) ? { unpredictable: true } : {}),
      };
    },
  };
  if (batch) {
    op.probe = {
      command: batch.command,
      parse: (r: ExecResult) => {
        if (r.code !== 0 && !r.stdout.includes(Buffer.from(batch.marker))) throw new OpFailure(`probe failed: ${r.stderr.toString('utf8').trim()}`);
        return splitBatch(r, batch.marker, probed.length);
      },
    };
  }
  return op;
}

