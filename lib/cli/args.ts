import { parseArgs } from 'node:util';
import { InputError } from '../shell/errors.ts';
import type { HostKeyMode } from '../transport/known-hosts.ts';
import { looksLikeRunId } from '../runs/run-store.ts';

export interface CliOptions {
  inventories: string[];
  check: boolean;
  diff: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: string[];
  forks: number;
  json: boolean;
  verbosity: number;
  hostKeyChecking: HostKeyMode;
  listHosts: boolean;
  help: boolean;
  vaultPasswordFile?: string;
  /** Use a vault password file that group or others may read (refused by default). */
  vaultPasswordFileAnyMode: boolean;
  /** --report FILE.html: a page of the run (timeline, recap, diffs) written when it ends. */
  reportFile?: string;
  /** --profile: where each host's time went, per play, after the recap (and a `profile` JSON event). */
  profile: boolean;
  /** --plan FILE: a check-mode run that saves its decisions to FILE (lib/plans/). */
  planFile?: string;
  /** --apply FILE: runs exactly the saved plan, refusing what differs. */
  applyFile?: string;
  /** --all-or-nothing (with --plan): at apply, no host changes unless every host's planned changes still hold. */
  allOrNothing: boolean;
  /** --resume [RUN_ID]: '' for the last run of this playbook and inventory (refused when it finished every host). */
  resume?: string;
  /** --resume-anyway: resume although the playbook, inventory or variables changed since. */
  resumeAnyway: boolean;
  /** Arguments a playbook declares for itself (e.g. role.ts NAME). */
  positionals: string[];
  /** Values of the flags a playbook declares for itself (backup.ts --list, --verify SET). */
  flags: Record<string, string | boolean | undefined>;
}

/** A flag a playbook adds to the common ones. */
export interface PlaybookFlag {
  type: 'string' | 'boolean';
  short?: string;
}

export const HELP = `Usage: rigger PLAYBOOK.ts [options]   (or npx tsx PLAYBOOK.ts [options])

Options:
  -i, --inventory PATH        inventory file (YAML or .ts); repeatable
                              default: inventory/hosts.yml, else the lab's inventory/lab.yml
      --check                 change nothing; report what would change
      --diff                  show unified diffs of files and structured diffs of JSON/specs
  -l, --limit PATTERN         only these hosts (names, groups, globs, a:b, a:&b, a:!b)
  -t, --tags LIST             only tasks with one of these tags (comma-separated)
      --skip-tags LIST        skip tasks with any of these tags
  -e, --extra-vars K=V        set a variable above all others; repeatable; also @file.yml or JSON
  -f, --forks N               hosts run in parallel (default 10)
      --json                  newline-delimited JSON events on stdout, nothing else
      --report FILE.html      also write the run as one self-contained page: a timeline per host,
                              the recap, every change's diff (secrets redacted as everywhere)
      --profile               after the recap, where each host's time went per play: connect, probe and
                              change round trips, waits on Docker/apt/health checks, the rest; with
                              round-trip counts, estimated remote execution and controller CPU
  -v, -vv, -vvv               stream remote output (-v), more detail (-vv), echo commands (-vvv)
      --host-key-checking M   strict (default) | accept-new | off
      --vault-password-file F passphrase for !vault values (or RIGGER_VAULT_PASSWORD);
                              refused when group or others may read it (chmod 600)
      --vault-password-file-any-mode  use that file whatever its mode
      --plan FILE             check mode, and save every decision to FILE (a plan: per host and task
                              ok, change with its diff, or skip, with digests of what it was decided from)
      --all-or-nothing        with --plan: at --apply, no host changes unless every host's planned changes hold
      --apply FILE            run exactly the saved plan: refused (exit 4) if the playbook, inventory or -e
                              changed; a task whose state changed since is not applied (its host stops, exit 2)
      --list-hosts            print the hosts each play would run on and exit
      --resume [RUN_ID]       run again only the hosts the last run (or RUN_ID) left failed,
                              unreachable or unfinished, each from the task where it stopped, with the
                              earlier tasks' registered results restored; another host is contacted only
                              when a task delegates to it.
                              Refused (exit 4) when the playbook, inventory or variables changed since,
                              and with --plan or --apply (a run under a plan is not recorded)
      --resume-anyway         resume even so (what changed is still reported)
  -h, --help                  this text

Exit codes: 0 ok, 2 a task failed, 3 a host was unreachable, 4 usage or input error, 130 interrupted.
`;

function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

function optionSpec(playbookFlags: Record<string, PlaybookFlag>) {
  return {
    inventory: { type: 'string', short: 'i', multiple: true },
    check: { type: 'boolean', short: 'C' },
    diff: { type: 'boolean', short: 'D' },
    limit: { type: 'string', short: 'l' },
    tags: { type: 'string', short: 't', multiple: true },
    'skip-tags': { type: 'string', multiple: true },
    'extra-vars': { type: 'string', short: 'e', multiple: true },
    forks: { type: 'string', short: 'f' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v', multiple: true },
    'host-key-checking': { type: 'string' },
    'vault-password-file': { type: 'string' },
    'vault-password-file-any-mode': { type: 'boolean' },
    'list-hosts': { type: 'boolean' },
    report: { type: 'string' },
    profile: { type: 'boolean' },
    plan: { type: 'string' },
    apply: { type: 'string' },
    'all-or-nothing': { type: 'boolean' },
    resume: { type: 'string' },
    'resume-anyway': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    ...playbookFlags,
  } as const;
}

/**
 * `--forks -1`: parseArgs takes a value that starts with a dash for a
 * forgotten value and explains itself in its own words. A negative number
 * is a value: it is joined to its option, so the option's own check words
 * the error.
 */
function joinNegativeValues(argv: readonly string[], spec: Record<string, { type: string; short?: string }>): string[] {
  const takesValue = new Set(Object.entries(spec).filter(([, o]) => o.type === 'string').flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (takesValue.has(a) && next !== undefined && /^-\d/.test(next)) {
      const long = a.startsWith('--') ? a : `--${Object.entries(spec).find(([, o]) => `-${o.short}` === a)![0]}`;
      out.push(`${long}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** parseArgs' messages, in rigger's words where they would read as Node's internals. */
function argumentError(err: Error): string {
  const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(err.message);
  if (ambiguous) return `${ambiguous[1]} needs a value; for a value that starts with a dash write ${ambiguous[1]}=VALUE (see --help)`;
  return `${err.message.replace(/\. To specify.*$/s, '')} (see --help)`;
}

/** --plan, --apply and --all-or-nothing go together only one way. */
function checkPlanFlags(o: CliOptions): void {
  if (o.planFile !== undefined && o.applyFile !== undefined) throw new InputError('command line', '--plan and --apply exclude each other: make the plan, review it, then apply it');
  if (o.applyFile !== undefined && o.check) throw new InputError('command line', '--apply runs the plan; to see it again without changing anything, use `rigger plan show FILE`');
  if (o.allOrNothing && o.planFile === undefined) throw new InputError('command line', '--all-or-nothing is a property of the plan: give it with --plan (the plan keeps it for --apply)');
  // A plan is decided from every host's state at once; a resume runs some hosts from a recorded position.
  if (o.resume !== undefined && (o.planFile !== undefined || o.applyFile !== undefined)) {
    throw new InputError('command line', `--resume and ${o.planFile !== undefined ? '--plan' : '--apply'} exclude each other: a plan covers every host from the first task; resume the failed run first, then plan again`);
  }
}

/**
 * `--resume` takes a value only when one is there: a run id (its shape is
 * unmistakable) is joined to it, anything else leaves it as `--resume=`
 * (the last run), so `--resume --check` and a playbook's own
 * positionals after it read as they look.
 */
function optionalResumeValue(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--resume') out.push(argv[i]!);
    else if (argv[i + 1] !== undefined && looksLikeRunId(argv[i + 1]!)) out.push(`--resume=${argv[++i]}`);
    else out.push('--resume=');
  }
  return out;
}

export function parseCli(argv: string[], allowPositionals = false, playbookFlags: Record<string, PlaybookFlag> = {}): CliOptions {
  let parsed;
  const options = optionSpec(playbookFlags);
  try {
    parsed = parseArgs({ args: joinNegativeValues(optionalResumeValue(argv), options), allowPositionals: true, strict: true, options });
  } catch (err) {
    throw new InputError('command line', argumentError(err as Error));
  }
  const v = parsed.values;
  if (!allowPositionals && parsed.positionals.length > 0) {
    throw new InputError('command line', `unexpected argument ${JSON.stringify(parsed.positionals[0])} (see --help)`);
  }
  const forks = v.forks === undefined ? 10 : Number(v.forks);
  if (!Number.isInteger(forks) || forks < 1 || forks > 1000) throw new InputError('command line', `--forks must be an integer from 1 to 1000, got ${JSON.stringify(v.forks)}`);
  const mode = v['host-key-checking'] ?? 'strict';
  if (mode !== 'strict' && mode !== 'accept-new' && mode !== 'off') {
    throw new InputError('command line', `--host-key-checking must be strict, accept-new or off, got ${JSON.stringify(mode)}`);
  }
  const opts: CliOptions = {
    inventories: v.inventory ?? [],
    check: v.check ?? false,
    diff: v.diff ?? false,
    tags: splitList(v.tags),
    skipTags: splitList(v['skip-tags']),
    extraVars: v['extra-vars'] ?? [],
    forks,
    json: v.json ?? false,
    verbosity: v.verbose?.length ?? 0,
    hostKeyChecking: mode,
    listHosts: v['list-hosts'] ?? false,
    vaultPasswordFileAnyMode: v['vault-password-file-any-mode'] ?? false,
    help: v.help ?? false,
    profile: v.profile ?? false,
    allOrNothing: v['all-or-nothing'] ?? false,
    resumeAnyway: v['resume-anyway'] ?? false,
    positionals: parsed.positionals,
    flags: Object.fromEntries(Object.keys(playbookFlags).map((k) => [k, (v as Record<string, string | boolean | undefined>)[k]])),
  };
  if (v.limit !== undefined) opts.limit = v.limit;
  if (v['vault-password-file'] !== undefined) opts.vaultPasswordFile = v['vault-password-file'];
  if (v.report !== undefined) opts.reportFile = v.report;
  if (v.plan !== undefined) opts.planFile = v.plan;
  if (v.apply !== undefined) opts.applyFile = v.apply;
  if (v.resume !== undefined) {
    if (v.resume !== '' && !looksLikeRunId(v.resume)) throw new InputError('command line', `--resume takes a run id like 20261207T171200123Z-1a2b3c (a directory of .rigger/runs/), got ${JSON.stringify(v.resume)}`);
    opts.resume = v.resume;
  }
  if (opts.resumeAnyway && opts.resume === undefined) throw new InputError('command line', '--resume-anyway goes with --resume');
  checkPlanFlags(opts);
  return opts;
}
