import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineRole, ops, Secret, z } from 'rigger-ops';
import { parseEnvFile } from './env-file.ts';

const relPath = z.string().regex(/^(?!\/)[A-Za-z0-9._/-]+$/, 'a path relative to the project directory');

export const composeProjectSpec = z
  .object({
    name: z.string(),
    /** The project's directory on the host. */
    dir: z.string(),
    /** The repository directory holding compose.yml and the files it mounts, copied as they are. */
    source: z.string(),
    /** Values Compose substitutes for ${VAR} (the compose directory's .env); secrets as !vault. */
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.instanceof(Secret)])).default({}),
    /** Env files the containers read: path on the host (relative to dir) -> the file in the repository it is made from. */
    env_files: z.record(relPath, z.string()).default({}),
    /** Secret values added to those env files: path -> name -> !vault value. */
    env_secrets: z.record(relPath, z.record(z.string(), z.instanceof(Secret, { message: 'an env secret must be a !vault value, never plain text' }))).default({}),
    /** More files for the project (a certificate, its key as !vault): path relative to dir -> content. */
    files: z.record(relPath, z.union([z.string(), z.instanceof(Secret)])).default({}),
    wait_seconds: z.number().int().min(1).default(180),
  })
  .strict();

export const composeProjectsDefaults = z.object({
  /** The Compose projects this host runs (Core's on Core, Edge's on Edge). */
  compose_projects: z.array(composeProjectSpec).default([]),
});

type Spec = z.output<typeof composeProjectSpec>;

/** Every file under a repository directory, by its path relative to it. */
function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full).split(path.sep).join('/')] = readFileSync(full, 'utf8');
  }
  return out;
}

/** The repository files a project needs that are missing: checked before any host changes. */
export function missingFiles(specs: Spec[]): string[] {
  return specs.flatMap((s) => [path.join(s.source, 'compose.yml'), ...Object.values(s.env_files)]).filter((f) => !existsSync(f));
}

export function projectOp(s: Spec) {
  const envFiles = Object.fromEntries(Object.entries(s.env_files).map(([target, local]) => [target, { ...parseEnvFile(local), ...(s.env_secrets[target] ?? {}) }]));
  return ops.compose.project({ project: s.name, dir: s.dir, files: { ...treeOf(s.source), ...s.files }, env: s.env, envFiles, waitSeconds: s.wait_seconds });
}

/**
 * The host's Compose projects, after checking (on every host, before any
 * changes: the playbook halts on a failure here) that each compose file and
 * env file exists in the repository, as the operators' deploy scripts check
 * their env files before `docker compose pull` and `up -d`.
 */
export const composeFilesPresent = defineRole({
  name: 'compose-files',
  defaults: composeProjectsDefaults,
  build: ({ task }) => ({
    tasks: [
      task({
        name: 'compose and env files present',
        op: (h) => {
          const missing = missingFiles(h.vars.compose_projects);
          return ops.assert({ that: missing.length === 0, message: `missing: ${missing.join(', ')} (copy the .example beside it and fill it in)`, success: `${h.vars.compose_projects.length} project(s): files present` });
        },
      }),
    ],
  }),
});

export const composeProjects = defineRole({
  name: 'compose-projects',
  defaults: composeProjectsDefaults,
  build: ({ task }) => ({
    tasks: [task({ name: 'compose projects up and healthy', op: (h) => ops.each('compose projects', h.vars.compose_projects.map(projectOp)) })],
  }),
});
