import { z } from '../../shell/zod.ts';
import { raw, sh, type Command } from '../../shell/command.ts';
import type { ExecResult } from '../../transport/types.ts';
import { CONTAINER_OF } from '../../ops/docker/container-of.ts';
import { absolutePath, defineOp, OpFailure, type Decision } from '../../model/op.ts';
import { Secret } from '../../shell/secret.ts';
import { countFilesIn, countRowsCommand, parseCounts, restoreConfigCommand, restoreDatabaseCommand, restoreGiteaCommand, restoreVolumeCommand, type DatabaseTarget } from '../restore-script.ts';
import { atomicWrite } from '../../ops/files/write-file.ts';
import { markerPath, nextMarker, parseMarker, readMarkerCommand, type RecoveryMarker } from '../marker.ts';
import { createHash } from 'node:crypto';

/** The last lines of a failed command's stderr, for a one-line reason. */
const stderrTail = (r: ExecResult) => r.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ');

const target = z.object({
  service: z.string(),
  database: z.string(),
  user: z.string(),
  host: z.string(),
  password: z.instanceof(Secret).optional(),
});

export interface RestoredDatabase {
  database: string;
  /** schema.table -> rows, counted after the restore. */
  tables: Record<string, number>;
}

/** Drops, re-creates and restores one database from its dump (restore-script.ts). */
export const restoreDatabase = defineOp({
  kind: 'recovery.database',
  schema: z.object({ target, file: absolutePath, set: z.string() }).strict(),
  describe: (p) => p.target.database,
  decide: (p): Decision<RestoredDatabase> => ({
    kind: 'change',
    msg: `drop and restore database ${p.target.database} from ${p.set}`,
    checkResult: { database: p.target.database, tables: {} },
    apply: async (remote) => {
      const r = await remote.run(restoreDatabaseCommand(p.target as DatabaseTarget, p.file));
      if (r.code !== 0) throw new OpFailure(`restore of database ${p.target.database} failed: ${stderrTail(r)}`, r);
      return { database: p.target.database, tables: parseCounts(r.stdout.toString('utf8')) };
    },
  }),
});

export interface RestoredVolume {
  volume: string;
  files: number;
}

const unpackSchema = z.object({ volume: z.string(), file: absolutePath, image: z.string(), set: z.string() }).strict();
type UnpackParams = z.output<typeof unpackSchema>;

/** An op that fills a volume from an artefact of the set and reports the files it then holds. */
function volumeFill(kind: string, what: (p: UnpackParams) => string, command: (p: UnpackParams) => Command) {
  return defineOp({
    kind,
    schema: unpackSchema,
    describe: (p) => p.volume,
    decide: (p): Decision<RestoredVolume> => ({
      kind: 'change',
      msg: what(p),
      checkResult: { volume: p.volume, files: 0 },
      apply: async (remote) => {
        const r = await remote.run(command(p));
        if (r.code !== 0) throw new OpFailure(`${what(p)} failed: ${stderrTail(r)}`, r);
        return { volume: p.volume, files: Number(r.stdout.toString('utf8').trim().split('\n').at(-1)) };
      },
    }),
  });
}

/** Empties (or creates) a volume and unpacks its tar into it. */
export const restoreVolume = volumeFill(
  'recovery.volume',
  (p) => `replace volume ${p.volume} with ${p.set}'s copy`,
  (p) => restoreVolumeCommand(p.volume, p.file, p.image),
);

/** Unpacks a Gitea dump into the Gitea volume (repositories, data, custom, app.ini). */
export const restoreGitea = volumeFill(
  'recovery.gitea',
  (p) => `unpack ${p.set}'s Gitea dump into volume ${p.volume}`,
  (p) => restoreGiteaCommand(p.volume, p.file, p.image),
);

/** A config item's files back in place on this host (restore-script.ts); the report names it as given (`config-etc on HOST`). */
export const restoreConfig = defineOp({
  kind: 'recovery.config',
  schema: z.object({ name: z.string(), file: absolutePath, set: z.string() }).strict(),
  describe: (p) => p.name,
  decide: (p): Decision<RestoredVolume> => ({
    kind: 'change',
    msg: `put ${p.set}'s ${p.name} files back in place`,
    checkResult: { volume: p.name, files: 0 },
    apply: async (remote) => {
      const r = await remote.run(restoreConfigCommand(p.file));
      if (r.code !== 0) throw new OpFailure(`restore of config ${p.name} failed: ${stderrTail(r)}`, r);
      return { volume: p.name, files: Number(r.stdout.toString('utf8').trim().split('\n').at(-1)) };
    },
  }),
});

/** PostgreSQL answers in each service's container on this host: read-only, retried by the task. */
export const postgresReady = defineOp({
  kind: 'recovery.postgres-ready',
  schema: z.object({ services: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)), host: z.string() }).strict(),
  describe: (p) => p.services.join(', '),
  readOnly: true,
  probe: (p) => ({
    command: sh`${raw(CONTAINER_OF)}
for s in ${p.services}; do
  if ! c=$(container_of "$s"); then echo "$s: no running container"; elif ! docker exec "$c" pg_isready -q -h ${p.host}; then echo "$s: not accepting connections yet"; fi
done`,
    parse: (r) => r.stdout.toString('utf8').split('\n').filter(Boolean),
  }),
  decide: (p, waiting: string[]): Decision<{ ready: string[] }> => (waiting.length === 0 ? { kind: 'ok', result: { ready: p.services } } : { kind: 'fail', reason: waiting.join('; ') }),
});

export interface DataFound {
  /** What a restore would overwrite: `database vibedb (2 tables, 537 rows)`, `volume x (3 files)`. */
  found: string[];
}

/** What the cluster holds that a restore would overwrite: read-only, for the refusal without --force. */
export const dataInPlace = defineOp({
  kind: 'recovery.data-in-place',
  schema: z.object({ databases: z.array(target), volumes: z.array(z.string()) }).strict(),
  describe: () => 'data in place',
  readOnly: true,
  decide: (p): Decision<DataFound> => ({
    kind: 'change',
    msg: 'look for data a restore would overwrite',
    checkResult: { found: [] },
    apply: async (remote) => {
      const found: string[] = [];
      for (const t of p.databases) {
        const r = await remote.run(countRowsCommand(t as DatabaseTarget));
        const counts = parseCounts(r.stdout.toString('utf8'));
        const tables = Object.keys(counts).length;
        if (tables > 0) found.push(`database ${t.database} (${tables} tables, ${Object.values(counts).reduce((a, b) => a + b, 0)} rows)`);
      }
      if (p.volumes.length) {
        const r = await remote.run(sh`for v in ${p.volumes}; do m=$(docker volume inspect -f '{{.Mountpoint}}' "$v" 2>/dev/null) && echo "$v $(${raw(countFilesIn('"$m"'))})"; done; true`);
        for (const line of r.stdout.toString('utf8').split('\n').filter(Boolean)) {
          const [v, n] = line.split(' ');
          if (Number(n) > 0) found.push(`volume ${v} (${n} files)`);
        }
      }
      return { found };
    },
  }),
});

/** Records the recovery's progress on the backup disk (recovery/marker.ts). */
export const writeMarker = defineOp({
  kind: 'recovery.marker',
  schema: z.object({ root: absolutePath, set: z.string(), stage: z.enum(['started', 'restored', 'completed']), at: z.string() }).strict(),
  describe: (p) => markerPath(p.root),
  // The marker as this run left it so far: the times it keeps come from here.
  probe: (p) => ({ command: readMarkerCommand(p.root), parse: (r: ExecResult) => parseMarker(r.stdout.toString('utf8')) }),
  decide: (p, onDisk: RecoveryMarker | undefined): Decision<RecoveryMarker> => {
    const marker = nextMarker(onDisk, p.set, p.stage, p.at);
    const text = Buffer.from(JSON.stringify(marker) + '\n');
    return {
      kind: 'change',
      msg: `record the recovery of ${p.set}: ${p.stage === 'restored' ? 'data restored' : p.stage}`,
      commands: [sh`mkdir -p -- ${`${p.root}/.rigger`}`, atomicWrite(markerPath(p.root), text, createHash('sha256').update(text).digest('hex'), '0600', {})],
      result: () => marker,
      checkResult: marker,
    };
  },
});
