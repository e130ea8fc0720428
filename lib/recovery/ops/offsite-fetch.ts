import { z } from '../../shell/zod.ts';
import { requireThat, sh } from '../../shell/command.ts';
import { absolutePath, defineOp, OpFailure, type Decision } from '../../model/op.ts';
import { manifestSchema, type Listing, type Manifest } from '../../backup/listing.ts';
import { offsiteAccess, rcloneVia } from '../../backup/offsite-access.ts';
import { COPIES_DIR } from '../../backup/offsite-mirror.ts';
import { backupRootGuardCommand, rootRefusal } from '../../backup/root-check.ts';
import { remotePath } from '../../backup/offsite-target.ts';
import { lsjsonOutput, remoteSets } from '../../backup/remote-sets.ts';
import { notReady, rcloneReady } from '../../backup/rclone-runner.ts';
import { parseMarker, readMarkerCommand, type RecoveryMarker } from '../marker.ts';
import { nearestSet } from './source.ts';

const setName = z.string().regex(/^(latest|\d{8}_\d{6})$/, 'a set name YYYYMMDD_HHMMSS or latest');
const hostDir = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);

export interface FetchedSet {
  set: string;
  /** The fetched files on the off-site host: ROOT/SET.partial or ROOT/copies/HOST/SET.partial, unverified. */
  dir: string;
  manifest: Manifest;
  /** Where it came from on the remote. */
  remoteDir: string;
  fetched: true;
  /** For the recovery's report: a set from the remote. */
  origin: 'offsite';
  /** The recovery marker under `markerRoot`, when asked for. */
  marker?: RecoveryMarker;
}

const schema = z
  .object({
    /** The backup root of the host that runs the fetch (the one with backup_offsite). */
    root: absolutePath,
    /** That host's backup_root_create: the root passes a set's own check (backup/root-check.ts) before anything is made under it. */
    rootCreate: z.boolean(),
    access: offsiteAccess,
    /**
     * Whose set: absent for the fetching host's own sets (REMOTE/SET, into
     * ROOT/SET.partial); a host name for the copies of that host's sets
     * (REMOTE/copies/HOST/SET, into ROOT/copies/HOST/SET.partial: the copy
     * layout, so what was fetched is a copy like any other once verified).
     */
    host: hostDir.optional(),
    set: setName,
    /** A named set not on the remote: its verified set nearest that name within this many seconds. */
    nearSeconds: z.number().int().min(0).default(0),
    /** Also read the recovery marker of this root (the fetching host's own recovery). */
    markerRoot: absolutePath.optional(),
  })
  .strict();
type P = z.output<typeof schema>;

const subdir = (p: P) => (p.host === undefined ? '' : `${COPIES_DIR}/${p.host}`);

/**
 * A set fetched from the off-site remote, through the crypt remote when
 * the keys are set (so it arrives decrypted), with the host's rclone runner
 * (Debian's package or the image: no apt needed). `latest` is the newest set
 * verified on the remote (its manifest there and every file with the size
 * it records); a name takes the verified set nearest it. The files land in
 * a `.partial` directory no listing calls good, to be verified (sha256)
 * before anything uses them; a copy already there is completed by rclone.
 */
export const offsiteFetch = defineOp({
  kind: 'recovery.offsite-fetch',
  schema,
  describe: (p) => remotePath(p.access.remote, `${subdir(p) ? `${subdir(p)}/` : ''}${p.set}`),
  decide: (p): Decision<FetchedSet> => {
    const remoteDir = subdir(p) ? remotePath(p.access.remote, subdir(p)) : p.access.remote;
    const localDir = subdir(p) ? `${p.root}/${subdir(p)}` : p.root;
    return {
      kind: 'change',
      msg: `fetch ${p.host ? `${p.host}'s ` : ''}set ${p.set} from ${remoteDir} into ${localDir}`,
      apply: async (host) => {
        const refused = rootRefusal(await host.run(backupRootGuardCommand(p.root, p.rootCreate)));
        if (refused) throw new OpFailure(`refusing to fetch into ${localDir}: ${refused}`);
        const ready = requireThat(rcloneReady(p.access.runner), notReady(p.access.runner));
        const rclone = rcloneVia(p.access, [{ shellVar: 'w' }]);
        const listed = await host.run(sh`${ready} && w=$(mktemp -d) && trap 'rm -rf -- "$w"' EXIT &&
${rclone} lsjson -R --files-only --no-modtime --no-mimetype -- ${remoteDir} > "$w/files" &&
${rclone} copy --include '/*/manifest.json' -- ${remoteDir} "$w/m" &&
base64 -w0 < "$w/files" && echo &&
for f in "$w"/m/*/manifest.json; do if [ -f "$f" ]; then printf '%s %s\\n' "$(basename -- "$(dirname -- "$f")")" "$(base64 -w0 < "$f")"; fi; done`);
        if (listed.code !== 0) throw new OpFailure(`cannot list ${remoteDir}: ${listed.stderr.toString('utf8').trim()}`, listed);
        const [filesB64 = '', ...rest] = listed.stdout.toString('utf8').split('\n');
        const text = Buffer.from(filesB64, 'base64').toString('utf8').trim();
        const manifests = new Map(rest.filter(Boolean).map((l) => [l.split(' ')[0]!, Buffer.from(l.split(' ')[1] ?? '', 'base64').toString('utf8')] as const));
        const sets = remoteSets(text ? lsjsonOutput.parse(JSON.parse(text)) : [], manifests);
        const listing: Listing = { rootExists: true, log: [], availKb: 0, sets: sets.filter((s) => s.verified).map((s) => ({ name: s.name, state: 'published', sizeKb: 0 })) };
        const name = p.set === 'latest' ? listing.sets.at(-1)?.name : nearestSet(listing, p.set, p.nearSeconds);
        if (!name || !listing.sets.some((s) => s.name === name)) {
          const bad = sets.filter((s) => !s.verified).map((s) => `${s.name} (${s.problem})`);
          throw new OpFailure(`no verified set ${p.set === 'latest' ? '' : `${p.set} `}on ${remoteDir}${bad.length ? `; not verified there: ${bad.join(', ')}` : ''}`);
        }
        const dir = `${localDir}/${name}.partial`;
        const marker = p.markerRoot ? sh` && echo '@@marker' && ${readMarkerCommand(p.markerRoot)}` : sh``;
        const r = await host.run(sh`mkdir -p -- ${localDir} && ${rcloneVia(p.access, [localDir])} copy -- ${remotePath(remoteDir, name)} ${dir} && cat -- ${`${dir}/manifest.json`}${marker}`);
        if (r.code !== 0) throw new OpFailure(`cannot fetch ${name} from ${remoteDir}: ${r.stderr.toString('utf8').trim()}`, r);
        const [manifestText, markerText = ''] = r.stdout.toString('utf8').split('@@marker\n');
        let manifest: Manifest;
        try {
          manifest = manifestSchema.parse(JSON.parse(manifestText!));
        } catch (err) {
          throw new OpFailure(`the off-site copy of ${name} has an unreadable manifest: ${(err as Error).message.split('\n')[0]}`);
        }
        const m = parseMarker(markerText);
        return { set: name, dir, manifest, remoteDir, fetched: true, origin: 'offsite', ...(m ? { marker: m } : {}) };
      },
    };
  },
});
