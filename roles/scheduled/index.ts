// The scheduled runner: a playbook's jobs (the nightly backup, the daily
// check) installed on one host of the inventory and run there by systemd
// timers (cron.d without systemd), unattended. What the timer executes is
// installed and versioned here (lib/scheduled/release.ts): Node from the
// distribution's packages when missing, the release under
// ROOT/PROGRAM/releases/VERSION with ROOT/PROGRAM/current pointing at it,
// the vault passphrase and the webhook's URL in root-only files, and an SSH
// key of the runner's own, authorized on every host of the inventory.
import { definePlay, ops, quote, task, type HostContext, type Play, type Op, type Secret, type Task } from 'rigger-ops';
import { sshLogin } from 'rigger-ops/lib/cli/connection';
import { RUNNER_ETC, RUNNER_KEY, RUNNER_LOG_DIR, RUNNER_VAULT_FILE, RUNNER_WEBHOOK_FILE, type Release } from 'rigger-ops/lib/scheduled/release';
import { MIN_NODE_MAJOR, nextElapse, nodeRuntime, otherPrograms, pruneReleases, runnerPublicKey, schedulerFacts } from './ops.ts';
import { serviceUnit, timerUnit } from './units.ts';

export interface ScheduledInstall {
  release: Release;
  /** The host whose timers run the jobs. */
  scheduler: string;
  state: 'present' | 'absent';
  /** Where releases live: ROOT/PROGRAM/releases/VERSION. */
  root: string;
  /** The controller's vault passphrase, when the inventory has !vault values. */
  vaultPassphrase?: Secret;
  webhook?: Secret;
  /** The name of the play, as the report finds it. */
  name: string;
}

/** A value as one shell word (lib/shell/quote.ts): plain paths and names stay as they are written. */
const word = (value: string) => quote(value).toString('utf8');

/** A file that holds a secret, written 0600 for root, or removed when there is none. */
const secretFile = (path: string, value: Secret | undefined): Op<unknown> => (value ? ops.copy({ path, content: value, mode: '0600', owner: 'root', group: 'root' }) : ops.file({ path, state: 'absent' }));

/** The service and timer of each job (systemd), or its cron.d line; removed with state absent. */
function jobUnitTasks(o: ScheduledInstall, dir: string): Task<any>[] {
  const present = o.state === 'present';
  const systemd = (h: HostContext<any>) => h.fact(schedulerFacts).systemd;
  const noSystemd = { when: systemd, whenReason: 'no systemd on this host: cron.d is used' };
  return o.release.jobs.flatMap((job) => [
    task({ name: `${job.name}.service`, ...noSystemd, op: ops.systemd.unit(present ? { name: `${job.name}.service`, content: serviceUnit(dir, job) } : { name: `${job.name}.service`, state: 'absent' }) }),
    task({ name: `${job.name}.timer`, ...noSystemd, op: ops.systemd.unit(present ? { name: `${job.name}.timer`, content: timerUnit(job) } : { name: `${job.name}.timer`, state: 'absent' }) }),
    task({
      name: `${job.name}.timer enabled`,
      when: (h) => systemd(h) && present,
      whenReason: (h) => (systemd(h) ? 'the schedule is removed' : 'no systemd on this host'),
      op: ops.systemd.service({ name: `${job.name}.timer`, state: 'started', enabled: true }),
    }),
    task({
      name: `cron.d ${job.name}`,
      when: (h) => !systemd(h),
      whenReason: 'systemd timers are used',
      op: ops.cron({
        name: job.name,
        schedule: present ? job.schedule : '@daily',
        // run-job writes the log and notifies by itself; cron's mail would only repeat it.
        command: present ? `cd ${word(`${dir}/current`)} && node --enable-source-maps run-job.mjs ${word(`${job.name}.json`)} >/dev/null 2>&1` : 'true',
        state: o.state,
      }),
    }),
  ]);
}

/** Who may log in with the runner's key: every host's login user, as the controller logs in. */
function runnerKeyTask(o: ScheduledInstall, publicKey: Task<string>, state: 'present' | 'absent', reason: string): Task<any> {
  return task({
    name: state === 'present' ? 'runner key authorized' : 'runner key revoked',
    when: (h) => Boolean(h.resultOf(o.scheduler, publicKey)),
    whenReason: reason,
    op: (h) => ops.system.authorizedKey({ user: sshLogin(h.hostVars(h.name)).user, key: h.resultOf(o.scheduler, publicKey)!, state }),
  });
}

/**
 * Removing a playbook's jobs: its units and its releases; and when no other
 * playbook's jobs are left on the host, the runner itself: its key revoked
 * on every host, which it would otherwise still open, and then its
 * root-only files (key, vault passphrase, webhook). The files go only once
 * every host has revoked the key: with a host unreachable they stay, so the
 * next removal still knows which key to revoke there. The logs under
 * /var/log/rigger are kept, as the run history.
 */
function removalPlays(o: ScheduledInstall, dir: string): Play[] {
  const others = task({ name: 'other scheduled playbooks', op: otherPrograms({ root: o.root, removing: o.release.program }) });
  const lastOne = (h: HostContext<any>) => h.resultOf(o.scheduler, others)?.length === 0;
  const publicKey = task({ name: 'runner key read', when: lastOne, whenReason: 'another playbook still runs here', op: runnerPublicKey({ path: `${RUNNER_KEY}.pub` }) });
  const revoke = runnerKeyTask(o, publicKey, 'absent', 'the runner stays (another playbook) or has no key');
  const revokedEverywhere = (h: HostContext<any>) => !h.resultOf(o.scheduler, publicKey) || h.groupHosts('all').every((n) => h.resultOf(n, revoke) !== undefined);
  return [
    definePlay({
      name: o.name,
      hosts: o.scheduler,
      facts: [schedulerFacts],
      tasks: () => [...jobUnitTasks(o, dir), task({ name: 'releases removed', op: ops.file({ path: dir, state: 'absent' }) }), others, publicKey],
    }),
    definePlay({ name: 'runner key revoked', hosts: 'all', tasks: () => [revoke] }),
    definePlay({
      name: 'runner removed',
      hosts: o.scheduler,
      tasks: () => [
        task({
          name: 'runner files removed',
          when: (h) => lastOne(h) && revokedEverywhere(h),
          whenReason: (h) => (lastOne(h) ? 'a host did not revoke the runner key: its files stay for the next removal' : 'another playbook still runs here'),
          op: ops.file({ path: RUNNER_ETC, state: 'absent' }),
        }),
      ],
    }),
  ];
}

/**
 * The plays that install (or remove) a release's jobs on the scheduler host;
 * installing also authorizes the runner's key on every host.
 */
export function scheduledJobsPlays(o: ScheduledInstall): Play[] {
  const { release } = o;
  const dir = `${o.root}/${release.program}`;
  if (o.state === 'absent') return removalPlays(o, dir);
  const releaseDir = `${dir}/releases/${release.version}`;
  const subdirs = [...new Set([...release.files.keys()].map((f) => f.split('/').slice(0, -1).join('/')).filter(Boolean))].sort();
  const publicKey = task({ name: 'runner key read', op: runnerPublicKey({ path: `${RUNNER_KEY}.pub` }) });
  const install = definePlay({
    name: o.name,
    hosts: o.scheduler,
    facts: [schedulerFacts],
    tasks: () => [
      task({
        name: 'nodejs installed',
        when: (h) => h.fact(schedulerFacts).node === undefined,
        whenReason: (h) => `node ${h.fact(schedulerFacts).node} is there`,
        op: ops.apt.packages({ names: ['nodejs'], updateCache: true }),
      }),
      task({ name: 'node runs the bundles', op: nodeRuntime({ minMajor: MIN_NODE_MAJOR }) }),
      task({
        name: 'runner directories',
        op: ops.each('directories', [
          ops.file({ path: RUNNER_ETC, state: 'directory', mode: '0700', owner: 'root', group: 'root' }),
          ops.file({ path: RUNNER_LOG_DIR, state: 'directory', mode: '0750' }),
          // Root's alone, as the jobs run as root: the inventory may hold more than its !vault values.
          ...[dir, `${dir}/releases`, releaseDir, ...subdirs.map((d) => `${releaseDir}/${d}`)].map((path) => ops.file({ path, state: 'directory', mode: '0700' })),
        ]),
      }),
      task({ name: `release ${release.version}`, op: ops.each('release files', [...release.files].map(([name, content]) => ops.copy({ path: `${releaseDir}/${name}`, content, mode: '0600' }))) }),
      task({ name: 'vault passphrase (root only)', op: secretFile(RUNNER_VAULT_FILE, o.vaultPassphrase) }),
      task({ name: 'webhook (root only)', op: secretFile(RUNNER_WEBHOOK_FILE, o.webhook) }),
      task({ name: 'runner key', op: ops.shell({ script: `ssh-keygen -q -t ed25519 -N '' -C "rigger-runner@$(hostname)" -f ${RUNNER_KEY}`, creates: RUNNER_KEY }) }),
      publicKey,
      task({ name: 'current release', op: ops.file({ path: `${dir}/current`, state: 'link', src: `releases/${release.version}` }) }),
      task({ name: 'older releases removed', op: pruneReleases({ dir: `${dir}/releases`, keep: release.version }) }),
      ...jobUnitTasks(o, dir),
      task({ name: 'next runs', op: (h) => nextElapse({ names: release.jobs.map((j) => j.name), systemd: h.fact(schedulerFacts).systemd, timezone: h.fact(schedulerFacts).timezone }) }),
    ],
  });
  const authorize = definePlay({ name: 'runner key authorized', hosts: 'all', tasks: () => [runnerKeyTask(o, publicKey, 'present', 'the runner key is made by the install (check mode)')] });
  return [install, authorize];
}
