import { defineRole } from 'rigger-ops';
import { pitrVars, withStackImage } from 'rigger-ops/lib/pitr/config';
import * as pitrOps from 'rigger-ops/lib/pitr/ops/index';

/**
 * Continuous WAL archiving for point-in-time recovery (lib/pitr): on the
 * database's host the server's settings (role, pg_hba, slot, the bound on
 * the WAL it keeps); on the archive host pg_receivewal running, then a
 * base backup with its retention. `ifNoneOfThisCluster`: the base backup
 * only when the archive holds none of the running cluster (a converge).
 */
const archiveRole = (ifNoneOfThisCluster: boolean) =>
  defineRole({
    name: 'pitr',
    defaults: pitrVars,
    build: ({ task }) => ({
      tasks: [
      task({
        name: 'wal archiving settings',
        when: (h) => h.vars.postgres_pitr?.database_host === h.name && !h.check,
        whenReason: (h) => (h.check ? 'check mode deploys nothing, so there is no database to read' : 'not the database host of postgres_pitr'),
        op: (h) => pitrOps.pitrServer({ config: h.vars.postgres_pitr! }),
        retries: 10,
        delaySeconds: 3,
      }),
      task({
        name: 'wal archiver',
        when: (h) => h.vars.postgres_pitr?.archive_host === h.name,
        whenReason: 'not the archive host of postgres_pitr',
        // The server's image as the stacks deploy it (stack_images: the rehearsal's lab registry).
        op: (h) => pitrOps.walArchiver({ config: withStackImage(h.vars.postgres_pitr!, h.vars.stack_images) }),
      }),
      task({
        name: 'base backup',
        when: (h) => h.vars.postgres_pitr?.archive_host === h.name,
        whenReason: 'not the archive host of postgres_pitr',
        op: (h) => pitrOps.pitrBaseBackup({ config: h.vars.postgres_pitr!, ifNoneOfThisCluster }),
        // The archiver's container was maybe just started: pg_basebackup runs in it.
        retries: 5,
        delaySeconds: 3,
      }),
      ],
    }),
  });

/**
 * The nightly set's (backup.ts) and a recovery's (playbooks/pitr-again.ts):
 * a base backup every time, so a gone archiver is started again by the next
 * night at the latest.
 */
export const pitrArchive = archiveRole(false);

/**
 * site.ts's, last (playbooks/cluster.ts): postgres_pitr declares archiving,
 * so a converge leaves it running; a base backup only when none of this
 * cluster is archived yet, so a second converge changes nothing.
 */
export const pitrArchiveConverge = archiveRole(true);
