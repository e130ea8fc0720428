import { definePlay, ops, type Builders, type HostContext, type Op, type Play, type Task, z } from 'rigger-ops';
import { backupVars, type BackupItemConfig } from 'rigger-ops/lib/backup/config';
import { copiesDir, copyHostFor } from 'rigger-ops/lib/backup/copy-host';
import { offsiteSetup } from 'rigger-ops/lib/backup/offsite-setup';
import type { RcloneHost } from 'rigger-ops/lib/backup/rclone-runner';
import type { ManifestItem } from 'rigger-ops/lib/backup/listing';
import type { PitrConfig } from 'rigger-ops/lib/pitr/config';
import { resuming } from 'rigger-ops/lib/recovery/marker';
import type { DatabaseTarget } from 'rigger-ops/lib/recovery/restore-script';
import type { RecoverySource, RecoveryVerdict, DataFound } from 'rigger-ops/lib/recovery/ops/index';
import { backupRunVars } from '../roles/backup/index.ts';
import { CLUSTER_PLAYS } from './cluster.ts';
import { pitrArchivingAgain } from './pitr-again.ts';
import { stacksDefaults } from '../roles/stacks/index.ts';
import { stackEnv } from '../roles/stacks/read.ts';
import { advertiseAddr, deployer, onFirstManager } from '../roles/common.ts';
import type { OffsiteSetup } from 'rigger-ops/lib/backup/offsite-setup';
import { needsConfig, NO_CONFIG, offsiteSetupOf, rcloneConfig, rcloneInstalled } from '../roles/backup/rclone.ts';
import * as backupOps from 'rigger-ops/lib/backup/ops/index';
import * as recoveryOps from 'rigger-ops/lib/recovery/ops/index';

export const PHASES = ['verify', 'docker', 'swarm', 'networks', 'database', 'restore', 'stacks', 'health', 'pitr'] as const;
export type Phase = (typeof PHASES)[number];

/** Which phase each play belongs to, for the report's durations. */
export const PHASE_OF_PLAY: Record<string, Phase> = {
  'recovery: verify': 'verify',
  base: 'docker',
  docker: 'docker',
  nvidia: 'docker',
  'recovery: swarm': 'swarm',
  swarm: 'swarm',
  networks: 'networks',
  nfs: 'networks',
  'recovery: database': 'database',
  databases: 'database',
  'recovery: restore': 'restore',
  stacks: 'stacks',
  monitoring: 'stacks',
  health: 'health',
  // With postgres_pitr, after health (the base backup of the recovered database takes its own time).
  'recovery: pitr archive aside': 'pitr',
  'recovery: pitr': 'pitr',
  'recovery: done': 'health',
};

/** With several backup hosts, a named set is each host's set of the same run: stamped within this many seconds of it. */
export const NEAR_SECONDS = 600;

export interface RecoveryOptions {
  /**
   * The hosts whose backup disks hold sets (those with backup_items): each
   * restores its own items (its volumes live there) from its own set.
   */
  backupHosts: string[];
  set: string;
  offsite: boolean;
  force: boolean;
  /** The inventory's postgres_pitr: point-in-time archiving is started again after the recovery. */
  pitr?: PitrConfig;
}

type BH = HostContext<z.output<typeof backupRunVars>>;

/** The copy host of a backup host, and where its copies of this host's sets are (backup/copy-host.ts). */
const copyHostOfH = (h: HostContext<any>) => copyHostFor(h.name, h.groupHosts('all'), (x) => h.hostVars(x));
const copyDirOf = (h: HostContext<any>) => copiesDir(backupVars.parse(h.hostVars(copyHostOfH(h)!)).backup_root, h.name);

/**
 * A recovery's destination root: the lost host's root is made again only
 * with backup_root_create; a mounted disk must be mounted first (the pull
 * refuses an empty mount point, backup/root-check.ts).
 */
const ownRoot = (h: BH) => ({ root: h.vars.backup_root, rootCreate: h.vars.backup_root_create });

/**
 * The seam where a backup host's recovery set is chosen, in the order a real
 * loss happens (docs/backups.md): its own disk's set; else the copy host's
 * verified copy of the same selection, pulled into the own root
 * (backupOps.pullSet: ROOT/SET.partial, every sha256 checked, renamed) and
 * then read there like an own set; else, with --from-offsite, the remote
 * (offsiteSteps). `before`: the tasks that look, fetch and pull; `source`:
 * the task whose result is the RecoverySource, its origin and originHost.
 */
function sourceSteps(task: Builders<z.output<typeof backupRunVars>>['task'], o: RecoveryOptions): { before: Task<any>[]; source: Task<RecoverySource> } {
  const near = o.backupHosts.length > 1 ? NEAR_SECONDS : 0;
  const own = task({ name: 'set on own disk', op: (h) => recoveryOps.findSet({ root: h.vars.backup_root, set: o.set, nearSeconds: near, verify: true }) });
  const onCopyHost = task({
    name: 'set on copy host',
    when: (h) => h.result(own)?.set === undefined && copyHostOfH(h) !== undefined,
    whenReason: (h) => (copyHostOfH(h) === undefined ? 'no copy host (one backup host)' : `the own disk has set ${h.result(own)?.set}`),
    // Evaluated before `when`: without a copy host, the host itself (the task is then skipped).
    delegateTo: (h) => copyHostOfH(h) ?? h.name,
    op: (h) => recoveryOps.findSet({ root: copyDirOf(h), set: o.set, nearSeconds: near, verify: true }),
  });
  const fromCopy = (h: BH) => h.result(onCopyHost)?.set;
  // reverify: a set already at that name on the own disk is the one that did not verify: its sha256 decide, not its sizes.
  const pulled = task({
    name: 'copy pulled',
    when: (h) => fromCopy(h) !== undefined,
    whenReason: 'the set is read from the own disk',
    op: (h) => backupOps.pullSet({ from: copyHostOfH(h)!, source: `${copyDirOf(h)}/${fromCopy(h)!}`, dir: `${h.vars.backup_root}/${fromCopy(h)!}`, ...ownRoot(h), reverify: true }),
  });
  const remote = offsiteSteps(task, o, near, (h) => o.offsite && h.result(own)?.set === undefined && fromCopy(h) === undefined);
  const source = task({
    name: 'recovery set',
    when: (h) => !(h.check && (h.status(pulled) === 'changed' || remote.pending(h))),
    whenReason: 'check mode pulls nothing, so there is no copy to read yet',
    op: (h) => {
      const copied = fromCopy(h);
      if (copied) return recoveryOps.localSource({ root: h.vars.backup_root, set: copied, origin: 'copy', originHost: copyHostOfH(h)! });
      return remote.source(h) ?? recoveryOps.localSource({ root: h.vars.backup_root, set: o.set, nearSeconds: near, originHost: h.name });
    },
  });
  return { before: [own, onCopyHost, pulled, ...remote.before], source };
}

/** The first backup host with backup_offsite: it holds the remote's config and fetches from it (the NAS in homelab.yml). */
const offsiteHostOf = (o: RecoveryOptions, h: HostContext<any>) => o.backupHosts.find((b) => h.hostVars(b).backup_offsite !== undefined);

/**
 * The third source, with --from-offsite, for a host whose own disk and copy
 * host have no set: the remote. The off-site host fetches it (decrypted,
 * through its rclone runner, recovery/ops/offsite-fetch.ts): its own set
 * into its own root, where the recovery's verify and promote steps take it;
 * another host's into its copies/HOST (the copy layout), verified and
 * promoted there, then pulled into that host's root with pullSet like a copy.
 */
function offsiteSteps(task: Builders<z.output<typeof backupRunVars>>['task'], o: RecoveryOptions, near: number, wanted: (h: BH) => boolean) {
  // A host with a remote of its own fetches from it; the others through the first host that has one.
  const off = (h: BH) => (h.vars.backup_offsite !== undefined ? h.name : offsiteHostOf(o, h));
  const offRoot = (h: BH) => backupVars.parse(h.hostVars(off(h)!)).backup_root;
  const forOther = (h: BH) => wanted(h) && off(h) !== undefined && off(h) !== h.name;
  // What the off-site host offers for rclone (apt, docker): read there, for the fetches delegated to it.
  const probed = task({
    name: 'rclone host',
    when: (h) => o.offsite && h.vars.backup_offsite !== undefined,
    whenReason: 'no backup_offsite on this host',
    op: () => backupOps.rcloneHostProbe({}),
  });
  const fetched = task({
    name: 'set fetched from off-site',
    when: forOther,
    whenReason: 'the set is on a disk of the cluster, or the remote is this host\'s own',
    delegateTo: (h) => off(h) ?? h.name,
    op: (h) => {
      const s = offsiteSetup(backupVars.parse(h.hostVars(off(h)!)), (h.resultOf(off(h)!, probed) as RcloneHost | undefined) ?? { apt: false, docker: false });
      if ('problem' in s) return ops.assert({ that: false, message: `${off(h)}: ${s.problem}` }) as unknown as Op<recoveryOps.FetchedSet>;
      return recoveryOps.offsiteFetch({ root: offRoot(h), rootCreate: backupVars.parse(h.hostVars(off(h)!)).backup_root_create, access: s.access, host: h.name, set: o.set, nearSeconds: near });
    },
  });
  const got = (h: BH) => h.result(fetched);
  const verified = task({
    name: 'off-site set verified',
    when: (h) => got(h) !== undefined,
    whenReason: 'nothing fetched for this host',
    delegateTo: (h) => off(h) ?? h.name,
    op: (h) => recoveryOps.verifyForRecovery({ dir: got(h)!.dir, manifest: got(h)!.manifest }),
    failedWhen: (v) => !v.ok,
  });
  const kept = task({
    name: 'off-site set kept',
    when: (h) => got(h) !== undefined,
    whenReason: 'nothing fetched for this host',
    delegateTo: (h) => off(h) ?? h.name,
    op: (h) => recoveryOps.promoteFetched({ root: copiesDir(offRoot(h), h.name), set: got(h)!.set }),
  });
  const pulled = task({
    name: 'off-site set pulled',
    when: (h) => got(h) !== undefined,
    whenReason: 'nothing fetched for this host',
    op: (h) => backupOps.pullSet({ from: off(h)!, source: `${copiesDir(offRoot(h), h.name)}/${got(h)!.set}`, dir: `${h.vars.backup_root}/${got(h)!.set}`, ...ownRoot(h), reverify: true }),
  });
  return {
    before: [probed, fetched, verified, kept, pulled] as Task<any>[],
    /** Check mode fetches nothing: no set to read yet. */
    pending: (h: BH) => h.status(fetched) === 'changed' || (wanted(h) && off(h) === h.name),
    /** The recovery set from the remote, or undefined when the remote is not this host's source. */
    source: (h: BH): Op<RecoverySource> | undefined => {
      if (!wanted(h) || off(h) === undefined) return undefined;
      if (off(h) === h.name) {
        const s = offsiteSetupOf(h);
        if ('problem' in s) return ops.assert({ that: false, message: s.problem }) as unknown as Op<RecoverySource>;
        return recoveryOps.offsiteFetch({ ...ownRoot(h), access: s.access, set: o.set, nearSeconds: near, markerRoot: h.vars.backup_root }) as Op<RecoverySource>;
      }
      const set = got(h)?.set;
      return set ? recoveryOps.localSource({ root: h.vars.backup_root, set, origin: 'offsite', originHost: off(h)! }) : undefined;
    },
  };
}

/** The inventory's item for a manifest item: where the password and connection come from. */
function inventoryItem(h: BH, m: ManifestItem): BackupItemConfig | undefined {
  return h.vars.backup_items.find((i) => i.kind === m.kind && (i.kind !== 'postgres' || (i.service === m.service && i.database === m.database)));
}

function databaseTarget(h: BH, m: ManifestItem): DatabaseTarget {
  const inv = inventoryItem(h, m);
  const pg = inv?.kind === 'postgres' ? inv : undefined;
  return { service: m.service!, database: m.database!, user: m.user ?? pg?.user ?? 'postgres', host: pg?.host ?? '127.0.0.1', ...(pg?.password ? { password: pg.password } : {}), ...(pg?.owner ? { owner: pg.owner } : {}) };
}

/** The tasks later plays read: the set, its verdict, what the cluster holds, the marker. */
export interface RecoveryTasks {
  source: Task<RecoverySource>;
  verify: Task<RecoveryVerdict>;
  found: Task<DataFound>;
  databases: Task<unknown[]>;
  volumes: Task<unknown[]>;
  gitea: Task<unknown[]>;
  config: Task<unknown[]>;
}

/**
 * The recovery as plays, in the order of the issue: verify the set before
 * anything changes (a failure halts the run), Docker where missing, the
 * swarm (kept, forced new from a surviving manager, or fresh), networks,
 * PostgreSQL alone, the restores, the stacks, health. The cluster roles are
 * the site playbook's, so a recovered cluster is the converged one.
 */
export function recoveryPlays(o: RecoveryOptions): { plays: Play[]; tasks: RecoveryTasks } {
  // Every phase needs the one before: a failure anywhere stops the recovery
  // there (stacks must not start on a database that was not restored).
  const halt = { haltOnFailure: true };
  const tasks = {} as RecoveryTasks;
  const now = () => new Date().toISOString();
  const backupHosts = o.backupHosts.join(':');
  const near = o.backupHosts.length > 1 ? NEAR_SECONDS : 0;
  /** The set this backup host recovers from. */
  const src = (h: HostContext<any>) => h.resultOf(h.name, tasks.source);
  const manifestItems = (h: HostContext<any>, kind: ManifestItem['kind']) => src(h)?.manifest.items.filter((i) => i.kind === kind) ?? [];
  /**
   * The backup hosts that hold none of their set's databases and volumes: lost
   * (a dead disk, a rebuilt node). When some are, a recovery without --force
   * restores just them and keeps every host that still holds its data, so one
   * lost node costs the others nothing since their last set; when none is,
   * it refuses as before (nothing to restore without overwriting).
   */
  const checkable = (h: HostContext<any>, b: string) => (h.resultOf(b, tasks.source)?.manifest.items ?? []).some((i) => i.kind === 'postgres' || i.volume !== undefined);
  /** A host whose set holds nothing that can be looked for (configuration only) never counts as lost: nothing says its data is gone. */
  const lostHosts = (h: HostContext<any>) => o.backupHosts.filter((b) => checkable(h, b) && h.resultOf(b, tasks.found)?.found.length === 0);
  const kept = (h: HostContext<any>, b: string = h.name): boolean => {
    const s = h.resultOf(b, tasks.source);
    const lost = lostHosts(h);
    return !o.force && s !== undefined && !resuming(s.marker, s.set) && lost.length > 0 && !lost.includes(b);
  };
  /** Every backup host's items of a kind, for the plays on the managers. */
  const allItems = (h: HostContext<any>, kind: ManifestItem['kind']) => o.backupHosts.flatMap((b) => h.resultOf(b, tasks.source)?.manifest.items.filter((i) => i.kind === kind) ?? []);

  const verifyPlay = definePlay({
    name: 'recovery: verify',
    hosts: backupHosts,
    schema: backupRunVars,
    ...halt,
    tasks: ({ task }) => {
      const sources = sourceSteps(task, o);
      tasks.source = sources.source;
      tasks.verify = task({
        name: 'set verified',
        when: (h) => h.result(tasks.source) !== undefined,
        whenReason: 'check mode fetches nothing, so there is no copy to verify yet',
        op: (h) => recoveryOps.verifyForRecovery({ dir: h.result(tasks.source)!.dir, manifest: h.result(tasks.source)!.manifest }),
        failedWhen: (v) => !v.ok,
      });
      tasks.found = task({
        name: 'data in place',
        when: (h) => h.result(tasks.source) !== undefined,
        whenReason: 'no set read yet',
        op: (h) =>
          recoveryOps.dataInPlace({
            databases: manifestItems(h, 'postgres').map((m) => databaseTarget(h, m)),
            // Gitea's volume too: a restore unpacks its dump there.
            volumes: [...new Set([...manifestItems(h, 'volume'), ...manifestItems(h, 'gitea')].map((m) => m.volume).filter((v): v is string => v !== undefined))],
          }),
      });
      return [
        ...(o.offsite
          ? [
              task({ name: 'rclone installed', when: (h: BH) => h.vars.backup_offsite !== undefined, whenReason: 'no backup_offsite on this host', op: (h: BH) => rcloneInstalled(offsiteSetupOf(h)) }),
              task({
                name: 'rclone config',
                when: (h: BH) => h.vars.backup_offsite !== undefined && needsConfig(offsiteSetupOf(h)),
                whenReason: (h: BH) => (h.vars.backup_offsite === undefined ? 'no backup_offsite on this host' : NO_CONFIG),
                op: (h: BH) => rcloneConfig(offsiteSetupOf(h) as OffsiteSetup),
              }),
            ]
          : []),
        ...sources.before,
        tasks.source,
        tasks.verify,
        task({
          name: 'verified copy kept',
          when: (h) => h.result(tasks.source)?.fetched === true,
          whenReason: 'the set is already in the backup root',
          op: (h) => recoveryOps.promoteFetched({ root: h.vars.backup_root, set: h.result(tasks.source)!.set }),
        }),
        tasks.found,
        task({
          name: 'nothing overwritten without --force',
          when: (h) => h.result(tasks.found) !== undefined,
          whenReason: 'nothing read yet',
          op: (h) => {
            const s = h.result(tasks.source)!;
            const found = h.result(tasks.found)!.found;
            const resume = resuming(s.marker, s.set);
            const lost = lostHosts(h);
            return ops.assert({
              that: o.force || resume || found.length === 0 || lost.length > 0,
              message: `refusing to overwrite what the cluster holds: ${found.join(', ')}. Run with --force to replace it with set ${s.set}`,
              success: resume
                ? `resuming the recovery of ${s.set} started ${s.marker!.started}`
                : kept(h)
                  ? `kept as it is: ${found.length ? found.join(', ') : 'its configuration'} (only ${lost.join(', ')} lost its data and is restored; --force replaces this host's data too)`
                  : !found.length
                    ? 'no data in place to overwrite'
                    : `--force: overwriting ${found.join(', ')}`,
            });
          },
        }),
        task({
          name: 'recovery started',
          when: (h) => h.result(tasks.source) !== undefined && !resuming(h.result(tasks.source)!.marker, h.result(tasks.source)!.set) && !kept(h),
          whenReason: (h) => (kept(h) ? 'this host holds its data: kept, nothing restored here' : 'resuming: the recovery was started before'),
          op: (h) => recoveryOps.writeMarker({ root: h.vars.backup_root, set: h.result(tasks.source)!.set, stage: 'started', at: now() }),
        }),
      ];
    },
  });

  const swarmPlay = definePlay({
    name: 'recovery: swarm',
    ...halt,
    hosts: 'managers',
    tasks: ({ task }) => [
      task({
        name: 'swarm state',
        ...onFirstManager('the swarm is recovered'),
        op: (h) => recoveryOps.recoverSwarm({ advertiseAddr: advertiseAddr(h.allVars, h.name) }),
      }),
    ],
  });

  const databasePlay = definePlay({
    name: 'recovery: database',
    ...halt,
    hosts: 'managers',
    schema: stacksDefaults,
    tasks: ({ task }) => {
      const onManager = onFirstManager('the database is started');
      /** The stacks holding the dumped databases' services, each with just those services. */
      const databaseStacks = (h: HostContext<z.output<typeof stacksDefaults>>) => {
        const services = allItems(h, 'postgres').map((m) => m.service!);
        return h.vars.stacks
          .map((s) => ({ s, only: [...new Set(services.filter((svc) => svc.startsWith(`${s.name}_`)).map((svc) => svc.slice(s.name.length + 1)))] }))
          .filter((x) => x.only.length > 0);
      };
      return [
        task({
          name: 'stack secrets',
          ...onManager,
          op: (h) => ops.each('stack secrets', Object.entries(h.vars.stack_secrets).map(([name, value]) => ops.docker.secret({ name, value }))),
        }),
        task({
          name: 'postgres alone',
          ...onManager,
          op: (h) =>
            ops.each(
              'database services',
              databaseStacks(h).map(({ s, only }) =>
                ops.docker.stack({
                  name: s.name,
                  file: s.file,
                  env: stackEnv(h.vars, s),
                  // The run log names who ran the recovery, as for every stack run.
                  user: deployer(),
                  services: only,
                  // The stacks play's image map: without it the rehearsal's PostgreSQL is the real image, which the lab cannot pull.
                  images: h.vars.stack_images,
                  timeoutSeconds: h.vars.stack_timeout_seconds,
                }),
              ),
            ),
        }),
      ];
    },
  });

  const restorePlay = definePlay({
    name: 'recovery: restore',
    ...halt,
    hosts: backupHosts,
    schema: backupRunVars,
    tasks: ({ task }) => {
      // Restored once per recovery of a set: after that, the applications may have written.
      const alreadyRestored = (h: BH) => {
        const s = src(h);
        return s !== undefined && resuming(s.marker, s.set) && s.marker!.restored !== undefined;
      };
      const skipReason = (h: BH) =>
        kept(h) ? 'this host holds its data: kept, nothing restored here' : alreadyRestored(h) ? `already restored in this recovery (${src(h)!.marker!.restored})` : 'nothing of this kind in the set';
      /** Neither restored before in this recovery nor a host that holds its data. */
      const restores = (h: BH) => !alreadyRestored(h) && !kept(h);
      const dir = (h: BH) => `${h.vars.backup_root}/${src(h)!.set}`;
      tasks.volumes = task({
        name: 'volumes restored',
        when: (h) => restores(h) && manifestItems(h, 'volume').length > 0,
        whenReason: skipReason,
        op: (h) => ops.each('volumes', manifestItems(h, 'volume').map((m) => recoveryOps.restoreVolume({ volume: m.volume!, file: `${dir(h)}/${m.file}`, image: m.image ?? h.vars.backup_tar_image, set: src(h)!.set }))),
      }) as Task<unknown[]>;
      tasks.databases = task({
        name: 'databases restored',
        when: (h) => restores(h) && manifestItems(h, 'postgres').length > 0,
        whenReason: skipReason,
        op: (h) => ops.each('databases', manifestItems(h, 'postgres').map((m) => recoveryOps.restoreDatabase({ target: databaseTarget(h, m), file: `${dir(h)}/${m.file}`, set: src(h)!.set }))),
      }) as Task<unknown[]>;
      const giteaItems = (h: BH) => manifestItems(h, 'gitea').filter((m) => m.volume && m.image);
      tasks.gitea = task({
        name: 'gitea restored',
        when: (h) => restores(h) && giteaItems(h).length > 0,
        whenReason: (h) => (manifestItems(h, 'gitea').length > giteaItems(h).length ? 'the Gitea item names no volume to restore into (backup_items: volume)' : skipReason(h)),
        op: (h) => ops.each('gitea', giteaItems(h).map((m) => recoveryOps.restoreGitea({ volume: m.volume!, file: `${dir(h)}/${m.file}`, image: m.image!, set: src(h)!.set }))),
      }) as Task<unknown[]>;
      tasks.config = task({
        name: 'config restored',
        when: (h) => restores(h) && manifestItems(h, 'config').length > 0,
        whenReason: skipReason,
        op: (h) => ops.each('config', manifestItems(h, 'config').map((m) => recoveryOps.restoreConfig({ name: `${m.name} on ${h.name}`, file: `${dir(h)}/${m.file}`, set: src(h)!.set }))),
      }) as Task<unknown[]>;
      return [
        task({
          name: 'postgres ready',
          when: (h) => !h.check && manifestItems(h, 'postgres').length > 0,
          whenReason: (h) => (h.check ? 'check mode starts no database' : 'no database in the set'),
          op: (h) => recoveryOps.postgresReady({ services: [...new Set(manifestItems(h, 'postgres').map((m) => m.service!))], host: '127.0.0.1' }),
          retries: 60,
          delaySeconds: 2,
        }),
        tasks.volumes,
        tasks.gitea,
        tasks.databases,
        tasks.config,
        task({
          name: 'recovery restored',
          when: (h) => src(h) !== undefined && restores(h),
          whenReason: (h) => (kept(h) ? 'this host holds its data: kept' : 'already recorded'),
          op: (h) => recoveryOps.writeMarker({ root: h.vars.backup_root, set: src(h)!.set, stage: 'restored', at: now() }),
        }),
      ];
    },
  });

  const healthPlay = CLUSTER_PLAYS.health(halt);

  const donePlay = definePlay({
    name: 'recovery: done',
    ...halt,
    hosts: backupHosts,
    schema: backupRunVars,
    tasks: ({ task }) => [
      task({
        name: 'recovery completed',
        when: (h) => src(h) !== undefined && !kept(h),
        whenReason: (h) => (kept(h) ? 'this host holds its data: kept' : 'no set read'),
        op: (h) => recoveryOps.writeMarker({ root: h.vars.backup_root, set: src(h)!.set, stage: 'completed', at: now() }),
      }),
    ],
  });

  /**
   * Whether the PITR server itself was restored from its dump (a new cluster):
   * its host (database_host) did not keep its data and its set holds the
   * item of its service. Another host's or another service's restore leaves
   * the archived cluster as it was.
   */
  const pitrServerRestored = (c: PitrConfig) => (h: HostContext<any>) => {
    const s = h.resultOf(c.database_host, tasks.source);
    return s !== undefined && !kept(h, c.database_host) && s.manifest.items.some((i) => i.kind === 'postgres' && i.service === c.service);
  };
  const pitrPlaysAfter = o.pitr ? pitrArchivingAgain(o.pitr, halt, pitrServerRestored(o.pitr)) : [];

  return {
    plays: [
      verifyPlay,
      CLUSTER_PLAYS.base(halt),
      CLUSTER_PLAYS.docker(halt),
      CLUSTER_PLAYS.nvidia(halt),
      swarmPlay,
      CLUSTER_PLAYS.swarm(halt),
      CLUSTER_PLAYS.networks(halt),
      CLUSTER_PLAYS.nfs(halt),
      databasePlay,
      // The applications' roles before their databases are restored as them (backup_items: owner).
      CLUSTER_PLAYS.databases(halt),
      restorePlay,
      CLUSTER_PLAYS.stacks(halt),
      // The monitoring stack on its restored volumes (skipped where monitoring_enabled is false).
      CLUSTER_PLAYS.monitoring(halt),
      healthPlay,
      ...pitrPlaysAfter,
      donePlay,
    ],
    tasks,
  };
}

