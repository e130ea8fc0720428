// What a scheduled job needs on the host that runs it, built on the
// controller: the playbook bundled with every package (bundle.ts), the job
// wrapper (run-job.ts), the inventory as the controller reads it (with the
// group_vars/ and host_vars/ beside it and beside the playbook), the
// connection variables of the runner's own key, the known host keys of the
// inventory's hosts, and one JOB.json per job. Its version is the package's
// plus a digest of every file: a new rigger, playbook or inventory is a new
// release directory; the same ones are the same bytes, so a second install
// changes nothing.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../shell/errors.ts';
import { entryMatches, hostKeyName, parseKnownHosts } from '../transport/known-hosts.ts';
import { bundleForHost } from './bundle.ts';
import type { JobSpec } from './outcome.ts';
import { runnerDeadline } from './timeout.ts';

/** Where the runner keeps what only root may read: its SSH key, the vault passphrase, the webhook's URL. */
export const RUNNER_ETC = '/etc/rigger/runner';
export const RUNNER_KEY = `${RUNNER_ETC}/id_ed25519`;
export const RUNNER_VAULT_FILE = `${RUNNER_ETC}/vault-password`;
export const RUNNER_WEBHOOK_FILE = `${RUNNER_ETC}/webhook`;
export const RUNNER_LOG_DIR = '/var/log/rigger';

export interface ScheduledJob {
  /** The systemd unit's (or cron.d file's) name. */
  name: string;
  what: string;
  /** Cron syntax, on the scheduler host's clock. */
  schedule: string;
  /** The playbook's own flags for this job (--scheduled, --offsite). */
  args: string[];
  notify: JobSpec['notify'];
  /** The unit's TimeoutStartSec (seconds, from the inventory: timeout.ts); the runner stops the run a little before. */
  timeoutSeconds: number;
}

export interface Release {
  /** The playbook's name (backup, daily-check): one release directory per playbook, shared by its jobs. */
  program: string;
  version: string;
  /** Relative path in the release directory -> content. */
  files: Map<string, Buffer>;
  jobs: ScheduledJob[];
}

export interface ReleaseInput {
  /** The project's directory (the playbook's paths are relative to it). */
  root: string;
  /** The playbook file, relative to root. */
  playbook: string;
  inventories: string[];
  jobs: ScheduledJob[];
  /** Whether the inventory needs the vault passphrase (the file is written by the install). */
  vault: boolean;
  /** The inventory's hosts as the controller reaches them, for their known host keys. */
  hosts: { address: string; port: number; knownHostsFile: string }[];
}

const packageVersion = (): string => (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Every file under a directory, relative to it, in a stable order. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .sort();
}

/** The lines of the controller's known_hosts files that vouch for these hosts (markers included). */
export function knownHostsFor(hosts: ReleaseInput['hosts'], read: (file: string) => string | undefined = (f) => (existsSync(f) ? readFileSync(f, 'utf8') : undefined)): string {
  const out = new Set<string>();
  for (const file of new Set(hosts.map((h) => h.knownHostsFile))) {
    const text = read(file);
    if (text === undefined) continue;
    const lines = text.split('\n');
    const names = hosts.filter((h) => h.knownHostsFile === file).map((h) => hostKeyName(h.address, h.port));
    for (const e of parseKnownHosts(text)) if (names.some((n) => entryMatches(e, n))) out.add(lines[e.line - 1]!.trim());
  }
  return [...out].map((l) => `${l}\n`).join('');
}

function addTree(files: Map<string, Buffer>, from: string, to: string): void {
  for (const f of filesUnder(from)) files.set(path.posix.join(to, f.split(path.sep).join('/')), readFileSync(path.join(from, f)));
}

/** The release directory's name for a playbook: its file name without the extension (backup, daily-check). */
export const programOf = (playbook: string): string => path.basename(playbook).replace(/\.[cm]?[jt]s$/, '');

export async function buildRelease(input: ReleaseInput): Promise<Release> {
  const program = programOf(input.playbook);
  const files = new Map<string, Buffer>();
  const playbook = await bundleForHost(input.root, input.playbook, `${program}.mjs`);
  files.set(`${program}.mjs`, Buffer.from(playbook.code));
  files.set(`${program}.mjs.map`, Buffer.from(playbook.map));
  const wrapperSource = fileURLToPath(new URL(`./run-job${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));
  const wrapper = await bundleForHost(input.root, path.relative(input.root, wrapperSource), 'run-job.mjs');
  files.set('run-job.mjs', Buffer.from(wrapper.code));
  files.set('run-job.mjs.map', Buffer.from(wrapper.map));

  const invArgs: string[] = [];
  const seen = new Set<string>();
  for (const inv of input.inventories) {
    if (/\.[cm]?ts$/.test(inv)) throw new InputError(inv, 'a scheduled job cannot load a TypeScript inventory (the scheduler host has no TypeScript): give it a YAML or INI inventory');
    const base = path.basename(inv);
    if (seen.has(base)) throw new InputError(inv, `two inventories named ${base}: a scheduled job keeps them side by side, so their names must differ`);
    seen.add(base);
    files.set(`inventory/${base}`, readFileSync(inv));
    invArgs.push('-i', `inventory/${base}`);
  }
  for (const dir of new Set(input.inventories.map((i) => path.dirname(path.resolve(i))))) {
    addTree(files, path.join(dir, 'group_vars'), 'inventory/group_vars');
    addTree(files, path.join(dir, 'host_vars'), 'inventory/host_vars');
  }
  const playbookDir = path.dirname(path.resolve(input.root, input.playbook));
  addTree(files, path.join(playbookDir, 'group_vars'), 'group_vars');
  addTree(files, path.join(playbookDir, 'host_vars'), 'host_vars');

  // The runner reaches every host with its own key, checked against the host keys the controller trusts.
  files.set('runner-vars.yml', Buffer.from(`# Written by rigger's scheduled runner: how this host reaches the inventory's hosts.\nansible_ssh_private_key_file: ${RUNNER_KEY}\nrigger_known_hosts_file: known_hosts\n`));
  files.set('known_hosts', Buffer.from(knownHostsFor(input.hosts)));
  for (const job of input.jobs) {
    const spec: JobSpec = {
      name: job.name,
      what: job.what,
      bundle: `${program}.mjs`,
      args: [...invArgs, '-e', '@runner-vars.yml', ...(input.vault ? ['--vault-password-file', RUNNER_VAULT_FILE] : []), ...job.args],
      notify: job.notify,
      log: `${RUNNER_LOG_DIR}/${job.name}.log`,
      webhookFile: RUNNER_WEBHOOK_FILE,
      deadlineSeconds: runnerDeadline(job.timeoutSeconds),
      runsDir: `/var/lib/rigger/${program}/runs`,
    };
    files.set(`${job.name}.json`, Buffer.from(`${JSON.stringify(spec, null, 2)}\n`));
  }
  const digest = createHash('sha256');
  for (const [name, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) digest.update(`${name}\0${createHash('sha256').update(content).digest('hex')}\n`);
  return { program, version: `${packageVersion()}-${digest.digest('hex').slice(0, 12)}`, files, jobs: input.jobs };
}
