// The scheduled runner's own reads and its one clean-up, on the scheduler host.
import { defineFact, defineOp, sh, z, type Decision } from 'rigger-ops';

/** The oldest Node major the bundles run on (BUNDLE_NODE_TARGET): Debian bookworm's. */
export const MIN_NODE_MAJOR = 18;

/** The timer host's init and clock: systemd or not, and its time zone (the schedule is its wall clock). */
export const schedulerFacts = defineFact(
  'scheduler',
  sh`if [ -d /run/systemd/system ]; then echo systemd; else echo cron; fi
tz=$(timedatectl show -p Timezone --value 2>/dev/null || cat /etc/timezone 2>/dev/null || true)
[ -n "$tz" ] || tz=UTC
echo "$tz"
command -v node >/dev/null 2>&1 && node -e 'process.stdout.write(process.versions.node)'; true`,
  (r) => {
    const [init, tz, node] = r.stdout.toString('utf8').split('\n');
    return { systemd: init === 'systemd', timezone: tz?.trim() || 'UTC', node: node?.trim() || undefined };
  },
);

/** Node on the scheduler host, read after the install step: missing or older than the bundles need fails. */
export const nodeRuntime = defineOp({
  kind: 'scheduled.node',
  schema: z.object({ minMajor: z.number().int() }).strict(),
  describe: (p) => `node >= ${p.minMajor}`,
  readOnly: true,
  probe: () => ({ command: sh`command -v node >/dev/null 2>&1 && node -e 'process.stdout.write(process.versions.node)'; true`, parse: (r) => r.stdout.toString('utf8').trim() }),
  decide: (p, version: string): Decision<{ version: string }> => {
    if (!version) return { kind: 'fail', reason: 'no node on this host (the nodejs package did not install one)' };
    if (Number(version.split('.')[0]) < p.minMajor) return { kind: 'fail', reason: `node ${version} is older than ${p.minMajor}, the oldest the scheduled jobs' bundles run on` };
    return { kind: 'ok', result: { version }, msg: `node ${version}` };
  },
});

/** The runner's public key, or '' before the install made it (check mode). */
export const runnerPublicKey = defineOp({
  kind: 'scheduled.public-key',
  schema: z.object({ path: z.string().startsWith('/') }).strict(),
  describe: (p) => p.path,
  readOnly: true,
  probe: (p) => ({ command: sh`cat ${p.path} 2>/dev/null || true`, parse: (r) => r.stdout.toString('utf8').trim() }),
  decide: (_p, key: string): Decision<string> => ({ kind: 'ok', result: key, msg: key ? key.split(' ').slice(0, 2).join(' ').slice(0, 40) + '...' : 'no key yet (check mode)' }),
});

/**
 * The other playbooks whose jobs this runner still serves (ROOT/PROGRAM/current
 * present), leaving out the one being removed, so that check mode answers as
 * the run will.
 */
export const otherPrograms = defineOp({
  kind: 'scheduled.other-programs',
  schema: z.object({ root: z.string().startsWith('/'), removing: z.string().regex(/^[A-Za-z0-9._-]+$/) }).strict(),
  describe: (p) => `${p.root}: programs other than ${p.removing}`,
  readOnly: true,
  probe: (p) => ({
    command: sh`for d in ${p.root}/*/current; do [ -e "$d" ] && basename "$(dirname "$d")"; done; true`,
    parse: (r) => r.stdout.toString('utf8').split('\n').filter(Boolean),
  }),
  decide: (p, names: string[]): Decision<string[]> => {
    const others = names.filter((n) => n !== p.removing);
    return { kind: 'ok', result: others, msg: others.length ? `still used by ${others.join(', ')}` : 'no other scheduled playbook' };
  },
});

/** Releases other than the current one are removed once the link points at it. */
export const pruneReleases = defineOp({
  kind: 'scheduled.prune-releases',
  schema: z.object({ dir: z.string().startsWith('/'), keep: z.string().regex(/^[A-Za-z0-9._-]+$/) }).strict(),
  describe: (p) => `${p.dir}: only ${p.keep}`,
  probe: (p) => ({ command: sh`ls -1 ${p.dir} 2>/dev/null || true`, parse: (r) => r.stdout.toString('utf8').split('\n').filter(Boolean) }),
  decide: (p, names: string[]): Decision<{ removed: string[] }> => {
    const old = names.filter((n) => n !== p.keep);
    if (old.length === 0) return { kind: 'ok', result: { removed: [] } };
    return { kind: 'change', msg: `remove ${old.join(', ')}`, commands: [sh`cd ${p.dir} && rm -rf -- ${old}`], result: () => ({ removed: old }), checkResult: { removed: old } };
  },
});

export interface NextRuns {
  timezone: string;
  systemd: boolean;
  /** Job name -> systemd's NextElapseUSecRealtime, or the cron.d schedule. */
  next: Record<string, string>;
}

/** When the timer host will run each job, as systemd (or cron) will: read back for the report. */
export const nextElapse = defineOp({
  kind: 'scheduled.next-run',
  schema: z.object({ names: z.array(z.string().regex(/^[a-z-]+$/)), systemd: z.boolean(), timezone: z.string() }).strict(),
  describe: (p) => p.names.join(', '),
  readOnly: true,
  probe: (p) => ({
    command: p.systemd
      ? sh`for n in ${p.names}; do printf '%s %s\n' "$n" "$(systemctl show -p NextElapseUSecRealtime --value "$n.timer" 2>/dev/null)"; done`
      : sh`for n in ${p.names}; do printf '%s %s\n' "$n" "$(grep -v '^#' /etc/cron.d/$n 2>/dev/null | grep -v = | cut -d' ' -f1-5)"; done`,
    parse: (r) => Object.fromEntries(r.stdout.toString('utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1).trim()])) as Record<string, string>,
  }),
  decide: (p, s: Record<string, string>): Decision<NextRuns> => ({ kind: 'ok', result: { timezone: p.timezone, systemd: p.systemd, next: s } }),
});
