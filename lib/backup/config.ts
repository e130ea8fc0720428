import { z } from '../shell/zod.ts';
import { Secret } from '../shell/secret.ts';
import { cronSchedule } from '../ops/cron/entry.ts';
import { jobTimeout } from '../scheduled/timeout.ts';
import { RCLONE_CHOICES } from './rclone-runner.ts';

/**
 * The backup's inventory variables. Every name that ends up in the remote
 * script or the manifest is restricted to characters that need no escaping
 * in shell or JSON, so the script and the manifest can be written by a
 * plain POSIX host without a JSON library.
 */
const word = (what: string) => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, `${what}: letters, digits, _ . - (starting with a letter or digit)`);
const safePath = z.string().regex(/^\/[A-Za-z0-9_.@+\/-]*$/, 'an absolute path of letters, digits and _ . @ + - /');
const imageRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:\/@-]*$/, 'an image reference like debian:bookworm-slim');
const secretLike = z.union([z.instanceof(Secret), z.string().min(1)]).transform((v) => (v instanceof Secret ? v : new Secret(v)));

export const ITEM_KINDS = ['postgres', 'gitea', 'volume', 'config'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

const postgresItem = z
  .object({
    kind: z.literal('postgres'),
    /** The swarm service (or plain container name) whose running container holds pg_dump. */
    service: word('service'),
    database: word('database'),
    user: word('user').default('postgres'),
    /**
     * The application's role that owns the database: a restore re-creates the
     * database owned by it and its objects as it (the databases role makes the
     * role first), so the application can use what was restored. Unset: the
     * restoring user owns everything.
     */
    owner: word('owner').optional(),
    /** The database password: a !vault value. Sent on stdin, never in argv. */
    password: secretLike.optional(),
    /** How pg_dump reaches the server from inside the container; TCP makes the password count. */
    host: z.string().regex(/^[A-Za-z0-9_.:-]+$/).default('127.0.0.1'),
    /** Give up when a lock blocks the dump this long, instead of hanging the night's run. */
    lock_wait_timeout: z.string().regex(/^\d+(ms|s|min)?$/).default('10min'),
  })
  .strict();

const giteaItem = z
  .object({
    kind: z.literal('gitea'),
    service: word('service'),
    user: word('user').default('git'),
    config: safePath.default('/data/gitea/conf/app.ini'),
    /** gitea dump's temp dir inside the container: point it at the backup disk (a bind mount), not the container's layer. */
    tempdir: safePath.default('/tmp'),
    /** The volume mounted at /data in the Gitea container: where a recovery unpacks the dump. */
    volume: word('volume').optional(),
  })
  .strict();

const volumeItem = z.object({ kind: z.literal('volume'), volume: word('volume') }).strict();

const configItem = z
  .object({
    kind: z.literal('config'),
    /** The artefact's name: config-NAME.tar. */
    name: word('name'),
    paths: z.array(safePath).default([]),
    /**
     * Tarred when they exist, recorded in the manifest as absent when not:
     * the operators' paths that only some hosts have (/etc/nginx, /opt/sglang).
     * A path in `paths` that is missing fails the set.
     */
    paths_if_present: z.array(safePath).default([]),
  })
  .strict()
  .refine((i) => i.paths.length + i.paths_if_present.length > 0, 'a config item needs paths or paths_if_present');

export const backupItem = z.discriminatedUnion('kind', [postgresItem, giteaItem, volumeItem, configItem]);

/**
 * A volume or bind mount of the host's stacks that holds nothing worth
 * restoring, with the reason: the guard that every stateful mount has an
 * item (test/unit/backup-coverage.test.ts) accepts these and nothing else.
 */
export const notBackedUp = z.union([
  z.object({ volume: word('volume'), reason: z.string().min(1) }).strict(),
  z.object({ path: safePath, reason: z.string().min(1) }).strict(),
]);
export type BackupItemConfig = z.output<typeof backupItem>;

/** Keep rules per item kind, as restic's and borg's forget: the newest N, and the newest of N days, weeks, months. */
const count = z.number().int().min(0);
export const retentionRule = z.object({ last: count, daily: count, weekly: count, monthly: count }).strict();
export type RetentionRule = z.output<typeof retentionRule>;
/** What the inventory may override: any of the four counts, the rest from the default. */
const retentionOverride = retentionRule.partial();

/**
 * CLUSTER.md: databases 30 days, Gitea 90 days, volumes 4 weeks,
 * configuration 90 days. Plus the last 7 sets of every kind: a daily rule
 * keeps one set per day, and a manual set taken before an upgrade must not
 * cost that night's set.
 */
export const DEFAULT_RETENTION: Record<ItemKind, RetentionRule> = {
  postgres: { last: 7, daily: 30, weekly: 0, monthly: 0 },
  gitea: { last: 7, daily: 90, weekly: 0, monthly: 0 },
  volume: { last: 7, daily: 28, weekly: 0, monthly: 0 },
  config: { last: 7, daily: 90, weekly: 0, monthly: 0 },
};

export const offsiteConfig = z
  .object({
    /** An rclone remote and path (`b2:bucket/backup`), or a local path the remote is mounted at. */
    remote: z.string().min(1).refine((s) => !s.startsWith('-'), 'must not start with -'),
    /** At most this many sets are deleted on the remote by one copy; more refuses the copy. */
    max_delete: z.number().int().min(0).default(5),
    /** rclone.conf content (a !vault value), written 0600 for the copy; without it rclone's own config is used. */
    rclone_config: secretLike.optional(),
  })
  .strict();

export const backupVars = z.object({
  backup_root: safePath.default('/volume1/backup'),
  /** The root is a plain directory of the host's own disk: made (0700) when missing. Off: a mounted disk: a mount point or a directory holding the marker (backup/root-check.ts), else the set fails. */
  backup_root_create: z.boolean().default(false),
  backup_items: z.array(backupItem).default([]),
  backup_not_needed: z.array(notBackedUp).default([]),
  backup_retention: z.partialRecord(z.enum(ITEM_KINDS), retentionOverride).default({}),
  /** Refuse to start when free space is below the last set's size times this, or below backup_min_free_mb. */
  backup_free_factor: z.number().min(1).default(1.5),
  backup_min_free_mb: z.number().min(0).default(100),
  /** A verified artefact smaller than this is refused (an empty dump is not a backup). */
  backup_min_item_bytes: z.number().int().min(1).default(64),
  /** The image that tars a volume: anything with GNU or busybox tar. */
  backup_tar_image: imageRef.default('debian:bookworm-slim'),
  backup_schedule: cronSchedule.default('0 2 * * *'),
  offsite_schedule: cronSchedule.default('0 3 * * 0'),
  /** How long the scheduled set and off-site copy may run (the units' TimeoutStartSec): seconds, or 90min, 2h. Past it the run is stopped and reported as failed. */
  backup_timeout: jobTimeout,
  offsite_timeout: jobTimeout,
  backup_offsite: offsiteConfig.optional(),
  /**
   * The off-site copy's encryption keys (!vault values): with both, every
   * upload and fetch goes through an rclone crypt remote over
   * backup_offsite.remote (content and names encrypted). Lost keys make the
   * remote unreadable: keep them outside the cluster too.
   */
  backup_offsite_crypt_password: secretLike.optional(),
  backup_offsite_crypt_salt: secretLike.optional(),
  /** How rclone runs: Debian's package (apt), the image through Docker (hosts without apt: DSM), or auto (apt if there, else the image). */
  backup_rclone: z.enum(RCLONE_CHOICES).default('auto'),
  /** The image for `backup_rclone: container`: any image with rclone on its PATH. */
  backup_rclone_image: imageRef.default('rclone/rclone:1.75.2'),
  /** Where rigger writes rclone's config (0600) for the off-site copy and the recovery's fetch. */
  backup_rclone_config: safePath.default('/etc/rigger/rclone.conf'),
  /**
   * The backup host (inventory name) that keeps a verified copy of this
   * host's sets under its own backup_root, in copies/THIS_HOST/SET. Unset:
   * the host with backup_offsite, or the next backup host (copy-host.ts).
   */
  backup_copy_to: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'an inventory host name').optional(),
  /** A URL (a !vault value) that gets a JSON POST when a run fails. */
  backup_webhook: secretLike.optional(),
  /** The host whose timers run the scheduled jobs (roles/scheduled), and where their releases are installed there. */
  backup_scheduler: z.string().optional(),
  backup_rigger_dir: safePath.default('/opt/rigger'),
  /** No longer read (a scheduled job runs with the inventory its install was given); accepted so older inventories load. */
  backup_inventory: z.string().regex(/^[A-Za-z0-9_.\/-]+$/).default('inventory/hosts.yml'),
});
export type BackupVars = z.output<typeof backupVars>;

export function retentionFor(vars: BackupVars): Record<ItemKind, RetentionRule> {
  const out = { ...DEFAULT_RETENTION };
  for (const kind of ITEM_KINDS) out[kind] = { ...DEFAULT_RETENTION[kind], ...(vars.backup_retention[kind] ?? {}) };
  return out;
}

/** The artefact file of an item inside a set. */
export function itemName(item: BackupItemConfig): string {
  switch (item.kind) {
    case 'postgres':
      return `postgres-${item.service}-${item.database}`;
    case 'gitea':
      return `gitea-${item.service}`;
    case 'volume':
      return `volume-${item.volume}`;
    case 'config':
      return `config-${item.name}`;
  }
}

export function itemFile(item: BackupItemConfig): string {
  return `${itemName(item)}.${item.kind === 'postgres' ? 'dump' : item.kind === 'gitea' ? 'zip' : 'tar'}`;
}

/** Two items writing the same file would overwrite each other: refuse the inventory instead. */
export function duplicateItemNames(items: BackupItemConfig[]): string[] {
  const seen = new Set<string>();
  const dupes = new Set<string>();
  for (const i of items) {
    const n = itemName(i);
    if (seen.has(n)) dupes.add(n);
    seen.add(n);
  }
  return [...dupes];
}
