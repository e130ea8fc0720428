import { z } from '../shell/zod.ts';
import { Secret } from '../shell/secret.ts';

/**
 * Point-in-time recovery of one PostgreSQL service: its WAL streamed by
 * pg_receivewal to a directory on another host (the archive host), and
 * physical base backups (pg_basebackup) kept beside it. One inventory
 * variable, `postgres_pitr`, set where both the database's host and the
 * archive host read it (the `all` group in homelab.yml).
 */
const word = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - (starting with a letter or digit)');
const pgName = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a PostgreSQL name: lower-case letters, digits and _');
const safePath = z.string().regex(/^\/[A-Za-z0-9_.@+\/-]*$/, 'an absolute path of letters, digits and _ . @ + - /');

export const pitrConfig = z
  .object({
    /** The swarm service running PostgreSQL (its task's host is database_host). */
    service: word.default('gateway_postgres'),
    /** Its data volume, which a recovery refills from a base backup. */
    volume: word.default('gateway_postgres_data'),
    /** Inventory name of the host that runs the service's task. */
    database_host: z.string().min(1),
    /** Inventory name of the host that keeps the WAL and base backups: never database_host. */
    archive_host: z.string().min(1),
    /** On archive_host: wal/ (pg_receivewal's) and base/ (the base backups). */
    archive_dir: safePath.default('/volume1/backup/pitr'),
    /** How the archiver reaches the server: the service's name on its overlay network, or an address. */
    server_host: z.string().regex(/^[A-Za-z0-9_.:-]+$/).default('gateway_postgres'),
    server_port: z.number().int().min(1).max(65535).default(5432),
    /** The overlay network the archiver joins to reach server_host (attachable). */
    network: word.default('data_network'),
    /** The database superuser, for the role, slot and settings (the image's POSTGRES_USER). */
    admin: pgName.default('postgres'),
    /** The replication role pg_receivewal and pg_basebackup log in as; its password is a !vault value. */
    user: pgName.default('rigger_archiver'),
    password: z.union([z.instanceof(Secret), z.string().min(1)]).transform((v) => (v instanceof Secret ? v : new Secret(v))),
    /** The physical replication slot: the server keeps WAL the archiver has not received yet. */
    slot: pgName.default('rigger_archive'),
    /** The bound on that: past it the server drops the slot's WAL rather than fill its disk (the archive then has a gap: pg_replication_slots.wal_status 'lost'). */
    max_slot_wal_keep_size: z.string().regex(/^\d+(MB|GB)$/).default('10GB'),
    /** The pg_hba address the replication role may connect from: samenet is the overlay network's subnet. */
    archiver_address: z.string().regex(/^[A-Za-z0-9_.:\/-]+$/).default('samenet'),
    /**
     * On database_host: where a recovery brings the base backup and WAL it needs from the archive host
     * (STAGING_DIR/pitr-staged-BASE, removed after a recovery that succeeded). Needs room for one base
     * backup and the WAL since it.
     */
    staging_dir: safePath.default('/var/tmp/rigger-pitr'),
    /** The image the archiver runs (holds pg_receivewal, pg_basebackup, pg_waldump): the server's own, through stack_images (archiverImage). */
    image: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:\/@-]*$/).default('postgres:16-alpine'),
    /** Base backups kept; WAL older than the oldest kept one is deleted with it. */
    keep_base: z.number().int().min(1).default(7),
  })
  .strict()
  .refine((c) => c.archive_host !== c.database_host, 'archive_host must be another host than database_host: the archive must survive the loss of the database host');

export type PitrConfig = z.output<typeof pitrConfig>;

/** stack_images as the stacks role reads it: the archiver runs the server's image as the stacks map it (the rehearsal's lab registry). */
export const pitrVars = z.object({ postgres_pitr: pitrConfig.optional(), stack_images: z.record(z.string(), z.string()).default({}) });

/** The config with its image mapped through the inventory's stack_images, as the stack's PostgreSQL is deployed. */
export const withStackImage = (c: PitrConfig, images: Record<string, string>): PitrConfig => ({ ...c, image: images[c.image] ?? c.image });

/** The archiver's container or service name on the archive host. */
export const ARCHIVER = 'rigger-wal-archiver';
