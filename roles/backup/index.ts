import { defineRole, ops, type HostContext, type Op, type Task, z } from 'rigger-ops';
import { backupVars, retentionFor, type BackupVars } from 'rigger-ops/lib/backup/config';
import type { Listing, RunLogEntry } from 'rigger-ops/lib/backup/listing';
import { copiesDir, copyHostFor } from 'rigger-ops/lib/backup/copy-host';
import type { SetOutcome } from 'rigger-ops/lib/backup/set-script';
import * as backupOps from 'rigger-ops/lib/backup/ops/index';
import type { OffsiteSetup } from 'rigger-ops/lib/backup/offsite-setup';
import { needsConfig, NO_CONFIG, offsiteSetupOf, rcloneConfig, rcloneInstalled } from './rclone.ts';

/** Set by the playbook: `schedule` when a timer ran it (--scheduled), so --list can tell nights from manual runs. */
export const backupRunVars = backupVars.extend({
  backup_trigger: z.enum(['manual', 'schedule']).default('manual'),
});
type Vars = z.output<typeof backupRunVars>;
type H = HostContext<Vars>;

const startedAt = new Date();

function logEntry(h: H, kind: RunLogEntry['kind'], tasks: Task<any>[]): RunLogEntry {
  const failed = tasks.find((t) => h.status(t) === 'failed');
  const entry: RunLogEntry = {
    at: startedAt.toISOString(),
    kind,
    status: failed ? 'failed' : 'ok',
    trigger: h.vars.backup_trigger,
    seconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
  };
  const set = kind === 'set' ? h.result<SetOutcome>(tasks[0] as Task<SetOutcome>) : undefined;
  if (set?.set) entry.set = set.set;
  if (set?.published) entry.bytes = set.bytes;
  if (failed) entry.reason = (h.message(failed) ?? 'failed').slice(0, 600);
  return entry;
}

/** The webhook's body: enough for a chat message, nothing secret (messages are redacted already). */
function failurePayload(h: H, kind: string, tasks: Task<any>[]): Record<string, unknown> {
  const failed = tasks.find((t) => h.status(t) === 'failed');
  const reason = failed ? (h.message(failed) ?? 'failed') : 'failed';
  return { text: `rigger backup on ${h.name} failed: ${reason}`, host: h.name, kind, task: failed?.name, reason, at: new Date().toISOString() };
}

/** This host's copy host (backup/copy-host.ts), from the inventory as the run sees it. */
export const copyHostOf = (h: HostContext<any>): string | undefined => copyHostFor(h.name, h.groupHosts('all'), (x) => h.hostVars(x));
/** The copy host's backup_root, its default applied. */
const copyVarsOf = (h: H) => backupVars.parse(h.hostVars(copyHostOf(h)!));
const copyRootOf = (h: H): string => copyVarsOf(h).backup_root;

const anyFailed = (h: H, tasks: Task<any>[]) => tasks.some((t) => h.status(t) === 'failed');
/** A scheduled run's failures, this role's included, are told once, by the runner that started it (lib/scheduled/run-job.ts). */
const notifies = (h: H) => h.vars.backup_webhook !== undefined && h.vars.backup_trigger !== 'schedule';
const whyNoWebhook = (h: H, otherwise: string) =>
  h.vars.backup_webhook === undefined ? 'no backup_webhook in the inventory' : h.vars.backup_trigger === 'schedule' ? 'the scheduled runner notifies the webhook' : otherwise;

/**
 * One backup set on a host that holds data, then retention, which runs only
 * when the set was published: a failed night deletes nothing. The run log
 * line and the webhook run in `always`, so a failure is recorded and told.
 */
export const backupSet = defineRole({
  name: 'backup',
  defaults: backupRunVars,
  build: ({ task, block }) => {
    const set = task({ name: 'backup set', op: (h) => backupOps.takeSet({ vars: h.vars as BackupVars }) });
    const prune = task({
      name: 'retention',
      when: (h) => h.status(set) === 'changed',
      whenReason: 'no set was published, so nothing is deleted',
      op: (h) => backupOps.retention({ root: h.vars.backup_root, rules: retentionFor(h.vars as BackupVars) }),
    });
    // The second copy (docs/backups.md): this host's verified sets that are
    // not (or not whole) on its copy host are pulled there, newest first, and
    // the copies' retention follows this host's rules. A failed copy fails
    // the run (run log, webhook) and deletes nothing.
    const published = (h: H) => h.status(set) === 'changed' && copyHostOf(h) !== undefined;
    const own = task({
      name: 'own sets',
      when: published,
      whenReason: (h) => (copyHostOf(h) === undefined ? 'one backup host only: no copy host' : 'no set was published'),
      op: (h) => backupOps.sets({ root: h.vars.backup_root }),
    });
    const copies = task({
      name: 'copies',
      when: published,
      whenReason: (h) => (copyHostOf(h) === undefined ? 'one backup host only: no copy host' : 'no set was published'),
      // Evaluated before `when`: a host without a copy host names itself (the task is then skipped).
      delegateTo: (h) => copyHostOf(h) ?? h.name,
      op: (h) => {
        const names = (h.result<Listing>(own)?.sets ?? []).filter((s) => s.state === 'published').map((s) => s.name).reverse();
        const c = copyVarsOf(h);
        const dir = copiesDir(c.backup_root, h.name);
        // The two newest are re-checked by sha256 (a flipped byte keeps the size): the new set, and the one that was newest before.
        return ops.each('backup.copies', names.map((s, i) => backupOps.pullSet({ from: h.name, source: `${h.vars.backup_root}/${s}`, dir: `${dir}/${s}`, root: c.backup_root, rootCreate: c.backup_root_create, reverify: i < 2 })));
      },
    });
    const copyPrune = task({
      name: 'copies retention',
      when: (h) => published(h) && h.status(copies) !== 'failed',
      whenReason: 'no copy was made',
      // Evaluated before `when`: a host without a copy host names itself (the task is then skipped).
      delegateTo: (h) => copyHostOf(h) ?? h.name,
      op: (h) => backupOps.retention({ root: copiesDir(copyRootOf(h), h.name), rules: retentionFor(h.vars as BackupVars) }),
    });
    const steps = [set, prune, own, copies, copyPrune];
    return {
      tasks: [
        block({
          name: 'backup',
          block: [
            task({
              name: 'backup root',
              when: (h) => h.vars.backup_root_create,
              whenReason: 'backup_root is a mounted disk: the set refuses to start without it',
              op: (h) => ops.file({ path: h.vars.backup_root, state: 'directory', mode: '0700' }),
            }),
            set,
            prune,
            own,
            copies,
            copyPrune,
          ],
          always: [
            task({ name: 'run log', op: (h) => backupOps.recordRun({ root: h.vars.backup_root, create: h.vars.backup_root_create, entry: logEntry(h, 'set', steps) }) }),
            task({
              name: 'failure webhook',
              when: (h) => anyFailed(h, steps) && notifies(h),
              whenReason: (h) => whyNoWebhook(h, 'the run did not fail'),
              op: (h) => backupOps.notifyWebhook({ url: h.vars.backup_webhook!, payload: failurePayload(h, 'set', steps) }),
            }),
          ],
        }),
      ],
    };
  },
});

const setupOf = offsiteSetupOf;

/** The retention policy of every other backup host, for the copies of its sets this root holds (copies/HOST). */
function copyRules(h: H): Record<string, ReturnType<typeof retentionFor>> {
  const out: Record<string, ReturnType<typeof retentionFor>> = {};
  for (const host of h.groupHosts('all')) {
    const v = backupVars.safeParse(h.hostVars(host));
    if (host !== h.name && v.success && v.data.backup_items.length) out[host] = retentionFor(v.data);
  }
  return out;
}

/**
 * The off-site copy of the root's verified sets and the copies it holds,
 * with rclone made ready first: Debian's package where apt is, else its
 * image pulled (DSM), and rclone's config written 0600 when the inventory
 * gives one or the crypt keys (never on a command line).
 */
export const backupOffsite = defineRole({
  name: 'backup-offsite',
  defaults: backupRunVars,
  build: ({ task, block }) => {
    const copy = task({
      name: 'off-site copy',
      op: (h) => {
        const s = setupOf(h);
        if ('problem' in s) return ops.assert({ that: false, message: s.problem }) as unknown as Op<backupOps.OffsiteResult>;
        const o = h.vars.backup_offsite!;
        return backupOps.offsiteCopy({ root: h.vars.backup_root, access: s.access, maxDelete: o.max_delete, rules: retentionFor(h.vars as BackupVars), copyRules: copyRules(h) });
      },
    });
    return {
      tasks: [
        block({
          name: 'off-site',
          block: [
            task({ name: 'rclone installed', op: (h) => rcloneInstalled(setupOf(h)) }),
            task({ name: 'rclone config', when: (h) => needsConfig(setupOf(h)), whenReason: NO_CONFIG, op: (h) => rcloneConfig(setupOf(h) as OffsiteSetup) }),
            copy,
          ],
          always: [
            task({ name: 'run log', op: (h) => backupOps.recordRun({ root: h.vars.backup_root, create: h.vars.backup_root_create, entry: logEntry(h, 'offsite', [copy]) }) }),
            task({
              name: 'failure webhook',
              when: (h) => anyFailed(h, [copy]) && notifies(h),
              whenReason: (h) => whyNoWebhook(h, 'the copy did not fail'),
              op: (h) => backupOps.notifyWebhook({ url: h.vars.backup_webhook!, payload: failurePayload(h, 'offsite', [copy]) }),
            }),
          ],
        }),
      ],
    };
  },
});
