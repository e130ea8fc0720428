import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';

/** Where rigger records its own `apt-get update`, beside apt's periodic stamp. */
export const UPDATE_STAMP = '/var/lib/rigger/apt-update-stamp';

export const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.:~+-]+)?$/, 'a Debian package name, optionally name=version');

export interface PackageState {
  /** name -> installed version (absent when not installed) */
  installed: Map<string, string>;
  /** name -> candidate version, read only for state latest */
  candidate: Map<string, string>;
  /** Seconds since the package lists were last updated; Infinity when never. */
  cacheAge: number;
}

const APT_ENV = 'DEBIAN_FRONTEND=noninteractive';
const APT_OPTS = '-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=300';

/** `apt-get update` that records its stamp, so "update when stale" can be decided next time. */
export function aptUpdate(): Command {
  return sh`${new Command(Buffer.from(`${APT_ENV} apt-get ${APT_OPTS} update -qq`))} && mkdir -p /var/lib/rigger && touch ${UPDATE_STAMP}`;
}

export function packagesProbe(names: string[], withCandidates: boolean) {
  const bare = names.map((n) => n.split('=')[0]!);
  return {
    command: sh`dpkg-query -W -f '\${Package}\t\${db:Status-Abbrev}\t\${Version}\n' ${bare} 2>/dev/null
echo @@cache
now=$(date +%s); newest=0
for f in ${UPDATE_STAMP} /var/lib/apt/periodic/update-success-stamp; do [ -e "$f" ] && t=$(stat -c %Y "$f") && [ "$t" -gt "$newest" ] && newest=$t; done
if [ "$newest" -eq 0 ]; then echo never; else echo $((now - newest)); fi
echo @@policy
${withCandidates ? sh`LC_ALL=C apt-cache policy ${bare} 2>/dev/null` : sh`:`}`,
    parse: (r: ExecResult) => parsePackages(r.stdout.toString('utf8')),
  };
}

export function parsePackages(text: string): PackageState {
  const [dpkg = '', rest = ''] = text.split('@@cache\n');
  const [cache = '', policy = ''] = rest.split('@@policy\n');
  const installed = new Map<string, string>();
  for (const line of dpkg.split('\n')) {
    const [name, status, version] = line.split('\t');
    if (name && status?.startsWith('ii') && version) installed.set(name, version);
  }
  const candidate = new Map<string, string>();
  let current: string | undefined;
  for (const line of policy.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) current = head[1];
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand && current && cand[1] !== '(none)') candidate.set(current, cand[1]!);
  }
  const age = cache.trim();
  return { installed, candidate, cacheAge: age === 'never' || age === '' ? Infinity : Number(age) };
}

const schema = z
  .object({
    names: z.array(packageName).min(1, 'name at least one package'),
    state: z.enum(['present', 'absent', 'latest']).default('present'),
    /** Run apt-get update first when the lists are older than cacheValidSeconds. */
    updateCache: z.boolean().default(false),
    cacheValidSeconds: z.number().int().min(0).default(3600),
    purge: z.boolean().default(false),
    installRecommends: z.boolean().default(false),
  })
  .strict();

export interface PackagesResult {
  changed: string[];
}

export function decidePackages(p: z.output<typeof schema>, s: PackageState): Decision<PackagesResult> {
  const wanted = p.names.map((n) => {
    const [name, version] = n.split('=') as [string, string | undefined];
    return { name, version };
  });
  let todo: string[];
  if (p.state === 'absent') todo = wanted.filter((w) => s.installed.has(w.name)).map((w) => w.name);
  else if (p.state === 'latest') {
    todo = wanted.filter((w) => !s.installed.has(w.name) || (s.candidate.has(w.name) && s.candidate.get(w.name) !== s.installed.get(w.name))).map((w) => w.name);
  } else {
    todo = wanted.filter((w) => !s.installed.has(w.name) || (w.version !== undefined && s.installed.get(w.name) !== w.version)).map((w) => (w.version ? `${w.name}=${w.version}` : w.name));
  }
  const stale = p.updateCache && s.cacheAge > p.cacheValidSeconds;
  if (todo.length === 0 && !stale) return { kind: 'ok', result: { changed: [] } };
  const commands: Command[] = [];
  const msgs: string[] = [];
  if (stale) {
    commands.push(aptUpdate());
    msgs.push(s.cacheAge === Infinity ? 'update the package lists' : `update the package lists (${Math.round(s.cacheAge)} s old)`);
  }
  if (todo.length > 0) {
    const verb = p.state === 'absent' ? (p.purge ? 'purge' : 'remove') : 'install';
    const recommends = p.installRecommends ? '' : ' --no-install-recommends';
    commands.push(sh`${new Command(Buffer.from(`${APT_ENV} apt-get ${APT_OPTS} -y -q${verb === 'install' ? recommends : ''} ${verb} --`))} ${todo}`);
    msgs.push(`${verb} ${todo.join(' ')}`);
  }
  const result = { changed: todo };
  return {
    kind: 'change',
    msg: msgs.join(', '),
    diff: { kind: 'summary', lines: todo.map((t) => `${p.state === 'absent' ? '-' : '+'} ${t}${s.installed.has(t) && p.state !== 'absent' ? ` (${s.installed.get(t)} -> ${s.candidate.get(t) ?? 'newer'})` : ''}`) },
    commands,
    result: () => result,
    checkResult: result,
  };
}

/** Debian packages present, absent or at the candidate version, with the cache updated only when stale. */
export const packages = defineOp({
  kind: 'apt.packages',
  schema,
  describe: (p) => `${p.state} ${p.names.join(' ')}`,
  probe: (p) => packagesProbe(p.names, p.state === 'latest'),
  decide: decidePackages,
});

const holdSchema = z.object({ names: z.array(packageName).min(1), held: z.boolean().default(true) }).strict();

/** Packages held at their version (apt-mark hold), or released. */
export const hold = defineOp({
  kind: 'apt.hold',
  schema: holdSchema,
  describe: (p) => `${p.held ? 'hold' : 'unhold'} ${p.names.join(' ')}`,
  probe: () => ({ command: sh`apt-mark showhold`, parse: (r: ExecResult) => new Set(r.stdout.toString().split('\n').filter(Boolean)) }),
  decide: (p, held: Set<string>): Decision<{ changed: string[] }> => {
    const todo = p.names.filter((n) => held.has(n) !== p.held);
    if (todo.length === 0) return { kind: 'ok', result: { changed: [] } };
    return {
      kind: 'change',
      msg: `${p.held ? 'hold' : 'unhold'} ${todo.join(' ')}`,
      commands: [sh`apt-mark ${p.held ? 'hold' : 'unhold'} ${todo}`],
      result: () => ({ changed: todo }),
      checkResult: { changed: todo },
    };
  },
});
