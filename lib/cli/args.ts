import { parseArgs } from 'node:util';
import { InputError } from '../core/errors.ts';
import type { HostKeyMode } from '../transport/known-hosts.ts';

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
  -v, -vv, -vvv               stream remote output (-v), more detail (-vv), echo commands (-vvv)
      --host-key-checking M   strict (default) | accept-new | off
      --vault-password-file F passphrase for !vault values (or RIGGER_VAULT_PASSWORD)
      --list-hosts            print the hosts each play would run on and exit
  -h, --help                  this text

Exit codes: 0 ok, 2 a task failed, 3 a host was unreachable, 4 usage or input error, 130 interrupted.
`;

function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function parseCli(argv: string[], allowPositionals = false, playbookFlags: Record<string, PlaybookFlag> = {}): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
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
        'list-hosts': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...playbookFlags,
      },
    });
  } catch (err) {
    throw new InputError('command line', `${(err as Error).message.replace(/\. To specify.*$/s, '')} (see --help)`);
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
    help: v.help ?? false,
    positionals: parsed.positionals,
    flags: Object.fromEntries(Object.keys(playbookFlags).map((k) => [k, (v as Record<string, string | boolean | undefined>)[k]])),
  };
  if (v.limit !== undefined) opts.limit = v.limit;
  if (v['vault-password-file'] !== undefined) opts.vaultPasswordFile = v['vault-password-file'];
  return opts;
}
