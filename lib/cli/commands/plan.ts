// `rigger plan show FILE [--json]`: a saved plan (--plan FILE) printed as
// the plan run printed it with --diff: every host's decision per task, each
// change with its diff. The events were redacted when the plan was made
// (the run's bus does it for every renderer), and the file holds no secret
// to redact now: show needs no inventory and no passphrase.
import { parseArgs } from 'node:util';
import { ExitCode, InputError, RiggerError } from '../../shell/errors.ts';
import { emptyCounts, type RunEvent } from '../../model/events.ts';
import { readPlan, type PlanFile } from '../../plans/format.ts';
import { digestSummary } from '../../plans/inputs.ts';
import { JsonRenderer } from '../../ui/json.ts';
import { PlainRenderer } from '../../ui/plain.ts';
import type { Renderer } from '../../ui/renderer.ts';
import { makeChalk } from '../../ui/style.ts';

const USAGE = `Usage: rigger plan show FILE [--json]   a plan saved by PLAYBOOK --plan FILE, as --check --diff printed it\n`;

/** The plan's events, with a run-start in check mode first and the plan's own summary before the recap. */
function replay(plan: PlanFile, file: string): RunEvent[] {
  const header: RunEvent = { type: 'run-start', playbook: plan.playbook, check: true, diff: true, inventory: Object.keys(plan.inputs.inventory.parts) };
  const changes = Object.values(plan.hosts).flat().filter((t) => t.decision === 'change' && !t.readOnly).length;
  const again = Object.values(plan.hosts).flat().filter((t) => t.decidedAgain).length;
  const summary: RunEvent = {
    type: 'plan',
    action: 'written',
    file,
    id: plan.id,
    message: `made ${plan.createdAt} from ${plan.playbook}: ${changes} change(s)${again ? `, ${again} task(s) decided again at apply` : ''}${plan.options.allOrNothing ? ', all or nothing' : ''}`,
    digests: digestSummary(plan.inputs),
    refusals: [],
  };
  const hosts = Object.fromEntries(
    Object.entries(plan.hosts).map(([host, tasks]) => {
      const c = emptyCounts();
      for (const t of tasks) c[t.status]++;
      return [host, c];
    }),
  );
  return [header, ...plan.events, summary, { type: 'recap', hosts, durationMs: 0 }];
}

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`rigger plan: ${(err as Error).message}\n${USAGE}`);
    return ExitCode.usage;
  }
  const [action, file, ...rest] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return ExitCode.ok;
  }
  if (action !== 'show' || file === undefined || rest.length > 0) {
    process.stderr.write(USAGE);
    return ExitCode.usage;
  }
  let plan: PlanFile;
  try {
    plan = readPlan(file);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    process.stderr.write(`rigger: ${err.message}\n`);
    return (err as RiggerError).exitCode;
  }
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  const renderer: Renderer = parsed.values.json ? new JsonRenderer() : new PlainRenderer(makeChalk(color));
  for (const e of replay(plan, file)) renderer.handle(e);
  await renderer.flush();
  return ExitCode.ok;
}
