import { definePlay, type HostContext, type Play } from 'rigger-ops';
import { pitrVars, type PitrConfig } from 'rigger-ops/lib/pitr/config';
import * as pitrOps from 'rigger-ops/lib/pitr/ops/index';
import { pitrArchive } from '../roles/pitr/index.ts';

/** The aside task's name: the recovery report reads its result (where the old archive went). */
export const ARCHIVE_ASIDE_TASK = 'old archive kept aside';

/**
 * Point-in-time archiving started again at the end of a recovery
 * (disaster-recovery.ts --from): without it the archiver stays gone until the
 * nightly backup.ts. When the database host's databases were restored from
 * their dumps, the server is a new PostgreSQL cluster (a new system
 * identifier): the old cluster's WAL and base backups are moved aside first
 * (pitrArchiveAside), so pg_receivewal starts a fresh archive and the base
 * backup is the new cluster's. When that host kept its data, its archive
 * still follows it and stays. Then the nightly role (roles/pitr): the
 * server's settings and slot, the archiver, one base backup.
 * `databaseRestored`: whether this recovery restored the PITR server's own
 * database (c.service on c.database_host; read from the restore plays' results).
 */
export function pitrArchivingAgain(c: PitrConfig, halt: { haltOnFailure: boolean }, databaseRestored: (h: HostContext<any>) => boolean): Play[] {
  return [
    definePlay({
      name: 'recovery: pitr archive aside',
      hosts: c.archive_host,
      schema: pitrVars,
      ...halt,
      tasks: ({ task }) => [
        task({
          name: ARCHIVE_ASIDE_TASK,
          when: (h) => databaseRestored(h),
          whenReason: `the databases of ${c.database_host} were kept: the archive still follows that cluster`,
          op: () => pitrOps.pitrArchiveAside({ config: c }),
        }),
      ],
    }),
    definePlay({ name: 'recovery: pitr', hosts: `${c.database_host}:${c.archive_host}`, ...halt, roles: [pitrArchive] }),
  ];
}

/**
 * The recovery report's lines: archiving started again, and where the old archive went.
 * Not started: the recovery run again is the way (it resumes, moves the old archive aside,
 * starts archiving), never backup.ts: after a restore its archiver would start over the old
 * cluster's wal/. `set`: the set this recovery read, for the command to run again.
 */
export function pitrAgainReport(c: PitrConfig, started: boolean, aside: string | undefined, check: boolean, set = 'SET'): string[] {
  if (check) return [`point-in-time archiving: would be started again (${c.database_host} -> ${c.archive_host})`];
  if (!started)
    return [`point-in-time archiving: NOT started again (once the cause is fixed, run disaster-recovery.ts --from ${set} again: it resumes, moves the old archive aside and starts archiving)`];
  return [
    `point-in-time archiving: started again (${c.database_host} -> ${c.archive_host}:${c.archive_dir}, a base backup of the recovered database taken)`,
    ...(aside ? [`  the old cluster's archive moved aside to ${aside} (its base backups cannot replay onto the restored database)`] : []),
  ];
}
