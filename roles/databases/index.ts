import { defineRole, ops, Secret, z } from 'rigger-ops';

export const databasesDefaults = z.object({
  /** The applications' databases: each owned by its own login role, whose password is a !vault value. */
  app_databases: z
    .array(z.object({ name: z.string(), owner: z.string(), password: z.instanceof(Secret, { message: 'a database password must be a !vault value, never plain text' }) }).strict())
    .default([]),
  /**
   * Extensions per database, created by the superuser once the databases exist: pg_stat_statements in
   * the database postgres_exporter reads (monitoring_postgres.database), for PostgreSQLSlowQueries.
   */
  app_database_extensions: z.array(z.object({ database: z.string(), extensions: z.array(z.string()).min(1) }).strict()).default([]),
  /** The swarm service running the cluster's PostgreSQL (its task runs on the host that lists app_databases). */
  app_databases_service: z.string().default('gateway_postgres'),
  /** The database superuser (the postgres image's POSTGRES_USER). */
  app_databases_admin: z.string().default('postgres'),
  /** PostgreSQL may still be starting when the stacks were just deployed: attempts after the first, seconds apart. */
  app_databases_retries: z.number().int().min(0).default(20),
  app_databases_delay_seconds: z.number().min(0).default(3),
});

/**
 * The applications' databases and roles (Gitea's giteadb/gitea, ...), made
 * on the host that runs the PostgreSQL task once the stacks are deployed;
 * the applications retry their connection until then.
 */
export const databases = defineRole({
  name: 'databases',
  defaults: databasesDefaults,
  build: ({ task }) => ({
    tasks: [
      task({
        name: 'application databases',
        when: (h) => h.vars.app_databases.length > 0 && !h.check,
        whenReason: (h) => (h.check ? 'check mode deploys nothing, so there is no database to read' : 'no app_databases on this host'),
        op: (h) => ops.postgres.databases({ service: h.vars.app_databases_service, admin: h.vars.app_databases_admin, databases: h.vars.app_databases }),
        retries: (h) => h.vars.app_databases_retries,
        delaySeconds: (h) => h.vars.app_databases_delay_seconds,
      }),
      task({
        name: 'database extensions',
        when: (h) => h.vars.app_database_extensions.length > 0 && !h.check,
        whenReason: (h) => (h.check ? 'check mode deploys nothing, so there is no database to read' : 'no app_database_extensions on this host'),
        op: (h) =>
          ops.each(
            'extensions',
            h.vars.app_database_extensions.map((e) => ops.postgres.extensions({ service: h.vars.app_databases_service, admin: h.vars.app_databases_admin, database: e.database, extensions: e.extensions })),
          ),
        // PostgreSQL may still be starting, or restarting after a Swarm update of its command (the preload).
        retries: (h) => h.vars.app_databases_retries,
        delaySeconds: (h) => h.vars.app_databases_delay_seconds,
      }),
    ],
  }),
});
