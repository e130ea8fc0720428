import path from 'node:path';
import { ExitCode, InputError } from '../shell/errors.ts';
import { NoPassphraseError } from '../shell/vault.ts';
import { EventBus, type RunEvent } from '../model/events.ts';
import type { PlanHook } from '../runner/plan-hook.ts';
import { ApplyGate } from '../plans/apply-gate.ts';
import { checkPlanSeal, readPlan, sealPlan, writePlan, type PlanFile, type PlanInputs } from '../plans/format.ts';
import { digestSummary, inputDifferences, planInputs, type InputSources } from '../plans/inputs.ts';
import { Digester } from '../plans/keyed-digest.ts';
import { commandKeyFromPlan, newCommandNonce } from '../plans/command-key.ts';
import { keyTempNames } from '../ops/files/temp-name.ts';
import { PlanRecorder } from '../plans/recorder.ts';
import type { CliOptions } from './args.ts';

/**
 * --plan and --apply around one run of runPlaybook (main.ts): which hook the
 * runner gets, the inputs checked before any host is contacted, the
 * all-or-nothing check pass, and the plan event before the recap.
 */
export interface PlanRun {
  /** The command line, with --limit/--tags taken from the plan when --apply gives none. */
  readonly opts: CliOptions;
  /** --plan runs in check mode. */
  readonly check: boolean;
  readonly hook: PlanHook;
  /** Every run event (the recorder keeps them; both follow the tasks' positions). */
  handle(e: RunEvent): void;
  /** Once the plays are planned, before any host: --plan records the inputs, --apply refuses (exit 4) when one differs. */
  inputs(sources: InputSources): void;
  /**
   * --apply: a check-mode pass judged by its own gate, before any change, when the plan has a task after a
   * host's first planned change or --all-or-nothing; false when the run must stop (--all-or-nothing, and a host does not hold).
   */
  preflight(checkRun: (hook: PlanHook, bus: EventBus) => Promise<void>, bus: EventBus): Promise<boolean>;
  /** After the run, before the recap: writes the plan or reports the apply; the exit code. */
  finish(summary: { exitCode: number; interrupted: boolean }, bus: EventBus): number;
}

function optionalPassphrase(passphrase: () => string): string | undefined {
  try {
    return passphrase();
  } catch (err) {
    if (err instanceof NoPassphraseError) return undefined;
    throw err;
  }
}

export function startPlanRun(opts: CliOptions, passphrase: () => string): PlanRun | undefined {
  if (opts.planFile !== undefined) return recording(opts, opts.planFile, passphrase);
  if (opts.applyFile !== undefined) return applying(opts, opts.applyFile, passphrase);
  return undefined;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** `host: task; ...`, sorted: the hosts finish in any order. */
const listed = (tasks: { host: string; task: string }[]) => tasks.map((t) => `${t.host}: ${t.task}`).sort().join('; ');

function recording(opts: CliOptions, file: string, passphrase: () => string): PlanRun {
  const given = optionalPassphrase(passphrase);
  const { digester, params } = given === undefined ? { digester: Digester.plain(), params: null } : Digester.create(given);
  const recorder = new PlanRecorder(digester);
  const commandNonce = newCommandNonce();
  keyTempNames(commandKeyFromPlan(commandNonce, digester));
  let inputs: PlanInputs | undefined;
  return {
    opts,
    check: true,
    hook: recorder,
    handle: (e) => recorder.handle(e),
    inputs: (sources) => {
      inputs = planInputs(sources, digester);
    },
    preflight: async () => true,
    finish: (summary, bus) => {
      if (summary.interrupted || !inputs) return summary.exitCode;
      const options = { ...(opts.limit !== undefined ? { limit: opts.limit } : {}), tags: opts.tags, skipTags: opts.skipTags, allOrNothing: opts.allOrNothing };
      const plan = recorder.plan({ playbook: path.relative(process.cwd(), process.argv[1] ?? ''), commandNonce, options, key: params, inputs });
      const again = recorder.decidedAgain();
      if (again.length > 0) {
        bus.emit({
          type: 'warning',
          message: `no vault passphrase keys this plan, so ${plural(again.length, 'task')} a Secret flows into carry no digest and will be decided again at apply: ${listed(again)}`,
        });
      }
      writePlan(file, sealPlan(plan, digester));
      const entries = Object.values(plan.hosts).flat();
      const changes = entries.filter((t) => t.decision === 'change' && !t.readOnly).length;
      const hosts = Object.values(plan.hosts).filter((ts) => ts.some((t) => t.decision === 'change' && !t.readOnly)).length;
      const failed = entries.filter((t) => t.status === 'failed' || t.status === 'unreachable').length;
      const message =
        `${plural(changes, 'change')} planned on ${plural(hosts, 'host')}` +
        (failed ? `; ${plural(failed, 'task')} failed in the plan run (a host stops there at apply too)` : '') +
        (params ? '; digests keyed by the vault passphrase' : '; no vault passphrase: plain SHA-256 digests') +
        `; review with \`rigger plan show ${file}\`, run with --apply ${file}`;
      bus.emit({ type: 'plan', action: 'written', file, id: plan.id, message, digests: digestSummary(inputs), refusals: [] });
      return summary.exitCode;
    },
  };
}

/** --limit and --tags of the plan, unless the command line gives its own (then they must be the same). */
function withPlanOptions(opts: CliOptions, plan: PlanFile, file: string): CliOptions {
  const o = plan.options;
  const same = (a: string[], b: string[]) => a.join(',') === b.join(',');
  const differ = (flag: string, now: string, then: string) => new InputError(file, `${flag} ${now} differs from the plan's (${then || 'none'}): a plan applies to what it was made for`);
  if (opts.limit !== undefined && opts.limit !== o.limit) throw differ('--limit', opts.limit, o.limit ?? '');
  if (opts.tags.length > 0 && !same(opts.tags, o.tags)) throw differ('--tags', opts.tags.join(','), o.tags.join(','));
  if (opts.skipTags.length > 0 && !same(opts.skipTags, o.skipTags)) throw differ('--skip-tags', opts.skipTags.join(','), o.skipTags.join(','));
  return { ...opts, tags: o.tags, skipTags: o.skipTags, ...(o.limit !== undefined ? { limit: o.limit } : {}) };
}

function applying(given: CliOptions, file: string, passphrase: () => string): PlanRun {
  const plan = readPlan(file);
  const opts = withPlanOptions(given, plan, file);
  const digester = Digester.forPlan(plan.key, plan.key ? optionalPassphrase(passphrase) : undefined, file);
  checkPlanSeal(plan, digester, file);
  keyTempNames(commandKeyFromPlan(plan.commandNonce, digester));
  const verified = new Set<string>();
  const gate = new ApplyGate(plan, digester, { verified, allOrNothing: plan.options.allOrNothing });
  // The check pass reads every planned task's state before any change, as the plan run did: needed to judge a task after its host's first planned change, and for --all-or-nothing.
  const needsCheck = plan.options.allOrNothing || Object.values(plan.hosts).some((ts) => ts.some((t) => t.afterChange && t.decision === 'change' && !t.readOnly));
  let digests: Record<string, string> = {};
  return {
    opts,
    check: false,
    hook: gate,
    handle: (e) => gate.handle(e),
    inputs: (sources) => {
      const now = planInputs(sources, digester);
      const differences = inputDifferences(plan.inputs, now);
      if (differences.length > 0) {
        throw new InputError(file, `the plan is stale, nothing was applied: ${differences.join('; ')}. Make the plan again`);
      }
      digests = digestSummary(now);
    },
    preflight: async (checkRun, bus) => {
      if (!needsCheck) return true;
      const judge = new ApplyGate(plan, digester, { checkPass: true });
      const quiet = new EventBus();
      quiet.on((e) => judge.handle(e));
      await checkRun(judge, quiet);
      for (const v of judge.verified) verified.add(v);
      // A host that could not be checked (unreachable, a task failing) does not hold its plan either.
      const against = [...judge.refusals, ...judge.troubles];
      if (!plan.options.allOrNothing || against.length === 0) return true;
      const hosts = [...new Set(against.map((r) => r.host))].sort();
      const message = `--all-or-nothing: no host was changed, as ${hosts.join(', ')} ${hosts.length === 1 ? 'does' : 'do'} not hold ${hosts.length === 1 ? 'its' : 'their'} planned changes`;
      bus.emit({ type: 'plan', action: 'refused', file, id: plan.id, message, digests, refusals: against });
      return false;
    },
    finish: (summary, bus) => {
      const refused = gate.refusals.length > 0;
      const done = !refused && gate.applied === 0 && gate.alreadyInPlace > 0;
      const again = gate.decidedAgain.length ? `; ${plural(gate.decidedAgain.length, 'task')} decided again (no passphrase keyed the plan): ${listed(gate.decidedAgain)}` : '';
      const message = done
        ? `the plan was already applied: every planned change is in place, nothing was changed${again}`
        : `${plural(gate.applied, 'change')} let through${gate.alreadyInPlace ? `, ${gate.alreadyInPlace} already in place` : ''}${refused ? `, ${plural(gate.refusals.length, 'task')} refused` : ''}${again}`;
      bus.emit({ type: 'plan', action: done ? 'already-applied' : 'applied', file, id: plan.id, message, digests, refusals: gate.refusals });
      return refused && summary.exitCode !== ExitCode.interrupted ? ExitCode.taskFailed : summary.exitCode;
    },
  };
}
