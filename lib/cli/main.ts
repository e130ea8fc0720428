import path from 'node:path';
import { ExitCode, RiggerError } from '../shell/errors.ts';
import { EventBus, type RunEvent } from '../model/events.ts';
import type { Play } from '../model/play.ts';
import type { Task } from '../model/task.ts';
import type { TaskOutcome } from '../runner/task-runner.ts';
import { redact } from '../shell/secret.ts';
import { Runner, type RunnerOptions } from '../runner/runner.ts';
import { defaultInventories, loadInventories, loadPlaybookVars, vaultPassphraseFor } from '../inventory/load.ts';
import { JsonRenderer } from '../ui/json.ts';
import { PlainRenderer } from '../ui/plain.ts';
import type { Renderer } from '../ui/renderer.ts';
import { makeChalk } from '../ui/style.ts';
import { HELP, parseCli, type CliOptions, type PlaybookFlag } from './args.ts';
import type { PlaybookContext } from '../runner/playbook-context.ts';
import { transportFor } from './connection.ts';
import { exitWhenFlushed } from './exit.ts';
import { describeThrown, loaded } from './thrown.ts';
import { parseExtraVars } from './extra-vars.ts';
import { startPlanRun, type PlanRun } from './plan-run.ts';
import type { PlanHook } from '../runner/plan-hook.ts';
import { prepareRecording, recordOnBus, type Recording } from './run-record.ts';

export interface PlaybookOptions {
  argv?: string[];
  /** Extra usage lines for playbooks that take arguments of their own. */
  usage?: string;
  allowPositionals?: boolean;
  /** Flags of the playbook's own, beside the common ones; their values are in opts.flags. */
  flags?: Record<string, PlaybookFlag>;
  /** A report printed after the recap (a pass/warn/fail table), from every task's outcome. */
  report?: (rows: OutcomeRow[]) => string;
  /** Every run event as it happens (a recovery times its phases from play starts). */
  onEvent?: (e: RunEvent) => void;
  /** Where the playbook's group_vars/ and host_vars/ are; default: the directory of the script run. */
  playbookDir?: string;
}

export interface OutcomeRow {
  task: Task<any>;
  host: string;
  outcome: TaskOutcome;
}

async function pickRenderer(opts: CliOptions): Promise<Renderer> {
  if (opts.json) return new JsonRenderer();
  // A tree needs a width: a pty that reports 0 columns gets plain lines.
  const tty = process.stdout.isTTY === true && (process.stdout.columns ?? 0) > 0 && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  if (!tty) return new PlainRenderer(makeChalk(false));
  // listr2 is loaded only for a terminal: scripts and --json never pay for it.
  const { TtyRenderer } = await import('../ui/tty.ts');
  return new TtyRenderer(makeChalk(true), opts.verbosity);
}

function withoutDiff(e: RunEvent): RunEvent {
  if (e.type !== 'task-host' || !e.diff) return e;
  const { diff: _diff, ...rest } = e;
  return rest;
}

function reportError(err: unknown, json: boolean): number {
  const code = err instanceof RiggerError ? err.exitCode : ExitCode.usage;
  const message = describeThrown(err);
  if (json) process.stdout.write(JSON.stringify({ type: 'error', message } satisfies RunEvent) + '\n');
  else process.stderr.write(`rigger: ${message}\n`);
  return code;
}

/** What a playbook's plays may depend on besides the command line (declared with the runner, for the domains below the cli). */
export type { PlaybookContext };

export type PlaysArg = Play[] | ((opts: CliOptions, context: PlaybookContext) => Play[] | Promise<Play[]>);

/** Parses the command line and runs plays; every playbook ends with this. Exits the process. */
export async function runPlaybook(plays: PlaysArg, options: PlaybookOptions = {}): Promise<never> {
  const code = await runPlaybookForExitCode(plays, options);
  return exitWhenFlushed(code);
}

export async function runPlaybookForExitCode(
  plays: PlaysArg,
  options: PlaybookOptions = {},
): Promise<number> {
  loaded();
  const argv = options.argv ?? process.argv.slice(2);
  let opts: CliOptions;
  try {
    opts = parseCli(argv, options.allowPositionals, options.flags);
  } catch (err) {
    return reportError(err, argv.includes('--json'));
  }
  if (opts.help) {
    process.stdout.write((options.usage ? options.usage + '\n' : '') + HELP);
    return ExitCode.ok;
  }
  const bus = new EventBus();
  const renderer = await pickRenderer(opts);
  // A report shows every change's diff; the terminal shows them only with --diff.
  bus.on((e) => renderer.handle(opts.diff ? e : withoutDiff(e)));
  const page = opts.reportFile === undefined ? undefined : new (await import('../ui/report/renderer.ts')).ReportRenderer(opts.reportFile);
  if (page) bus.on((e) => page.handle(e));
  const flush = async () => {
    await renderer.flush();
    await page?.flush();
  };
  if (options.onEvent) bus.on(options.onEvent);
  let runner: Runner;
  let planned;
  const rows: OutcomeRow[] = [];
  let inventoryFiles: string[];
  let planRun: PlanRun | undefined;
  let runnerOptions: RunnerOptions;
  let recording: Recording;
  // The playbook is the script node runs (argv[1]); records and run-start name it from the working directory.
  const playbook = path.relative(process.cwd(), process.argv[1] ?? '');
  try {
    inventoryFiles = defaultInventories(opts.inventories);
    const vaultPassphrase = vaultPassphraseFor(inventoryFiles, opts.vaultPasswordFile, { anyMode: opts.vaultPasswordFileAnyMode });
    // --plan / --apply (plan-run.ts): read before anything else, so a stale or foreign plan contacts no host.
    planRun = startPlanRun(opts, vaultPassphrase);
    if (planRun) {
      opts = planRun.opts;
      bus.on((e) => planRun!.handle(e));
    }
    const inventory = await loadInventories(inventoryFiles, { vaultPassphrase });
    // The playbook is the script node runs (argv[1]); its group_vars/ and host_vars/ apply as in Ansible.
    const playbookDir = options.playbookDir ?? (process.argv[1] ? path.dirname(path.resolve(process.argv[1])) : undefined);
    if (playbookDir) loadPlaybookVars(playbookDir, inventory, { vaultPassphrase });
    const extraVars = parseExtraVars(opts.extraVars, { vaultPassphrase });
    const list = typeof plays === 'function' ? await plays(opts, { inventory, hostVars: (host) => Object.fromEntries([...inventory.varsFor(host), ...extraVars].map(([k, v]) => [k, v.value])) }) : plays;
    recording = prepareRecording({
      resume: opts.resume,
      resumeAnyway: opts.resumeAnyway,
      // A plan run is check mode; an --apply run follows its plan, which a resume could not: neither is recorded.
      record: !opts.check && !opts.listHosts && planRun === undefined,
      plays: list,
      playbook,
      entry: process.argv[1],
      inventory,
      inventoryFiles,
      extraVars,
      arguments: { tags: opts.tags, skipTags: opts.skipTags, positionals: opts.positionals, flags: opts.flags },
      limit: opts.limit,
      playbookDir,
      vaultPassphrase,
    });
    runnerOptions = {
      inventory,
      check: opts.check || planRun?.check === true,
      diff: opts.diff || page !== undefined || planRun !== undefined,
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      tags: opts.tags,
      skipTags: opts.skipTags,
      extraVars,
      forks: opts.forks,
      verbosity: opts.verbosity,
      bus,
      onOutcome: (row) => rows.push(row),
      transportFor: (host, vars) => transportFor(host, vars, { hostKeyMode: opts.hostKeyChecking }),
      profile: opts.profile,
      ...(planRun ? { planHook: planRun.hook } : {}),
      ...(recording.recorder ? { progress: recording.recorder } : {}),
      ...(recording.resume ? { resume: recording.resume } : {}),
    };
    runner = new Runner(runnerOptions);
    planned = runner.plan(list);
    planRun?.inputs({ playbook: process.argv[1], plays: list, inventory, playbookDir, extraVars });
  } catch (err) {
    return reportError(err, opts.json);
  }
  if (opts.listHosts) {
    process.stdout.write(planned.map((p) => `PLAY [${p.play.name}] (${p.hosts.length} hosts)\n${p.hosts.map((h) => `${h}\n`).join('')}`).join(''));
    return ExitCode.ok;
  }
  const recorded = recordOnBus(recording.recorder, bus, planned.map((p) => p.hosts));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // The first signal's graceful stop is stuck (a command ignoring TERM): kill, then leave.
      runner.abort();
      void exitWhenFlushed(ExitCode.interrupted);
    }
    bus.emit({ type: 'interrupted', signal });
    runner.interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  bus.emit({ type: 'run-start', playbook, check: runnerOptions.check, diff: opts.diff, inventory: inventoryFiles });
  if (recording.resume) {
    bus.emit({ type: 'resume', from: recording.resume.record.id, hosts: recording.resume.positions, ...(recording.changed ? { changed: recording.changed } : {}) });
  }
  try {
    // --apply: a check-mode pass first where the plan needs one (plan-run.ts); its outcomes are not the run's rows.
    const checkPass = (hook: PlanHook, quiet: EventBus) => new Runner({ ...runnerOptions, check: true, bus: quiet, planHook: hook, onOutcome: () => {} }).run(planned).then(() => undefined);
    if (planRun && !(await planRun.preflight(checkPass, bus))) {
      bus.emit({ type: 'recap', hosts: {}, durationMs: 0 });
      await flush();
      return ExitCode.taskFailed;
    }
    runner.connectEarly(planned);
    const summary = await runner.run(planned);
    const exitCode = planRun ? planRun.finish(summary, bus) : summary.exitCode;
    const record = recorded.finish(summary);
    const report = options.report ? redact(options.report(rows)) : undefined;
    // --json keeps the recap as the last line, so the report goes before it.
    if (report !== undefined && opts.json) process.stdout.write(JSON.stringify({ type: 'report', text: report }) + '\n');
    bus.emit({ type: 'recap', hosts: Object.fromEntries(summary.counts), durationMs: Math.round(summary.durationMs), ...(record ? { record } : {}) });
    await flush();
    if (report !== undefined && !opts.json) process.stdout.write(`\n${report}\n`);
    return exitCode;
  } catch (err) {
    await flush();
    return reportError(err, opts.json);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
