import { z } from '../shell/zod.ts';
import { sh, type Command, type Raw } from '../shell/command.ts';
import type { ExecResult } from '../transport/types.ts';
import { ITEM_KINDS } from './config.ts';
import { SET_NAME } from './retention.ts';

/** The manifest a set's script writes last; a set without one was never published. */
export const manifestSchema = z
  .object({
    format: z.literal(1),
    set: z.string().regex(SET_NAME),
    created: z.string(),
    host: z.string(),
    bytes: z.number(),
    items: z.array(
      z
        .object({
          name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
          kind: z.enum(ITEM_KINDS),
          file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
          bytes: z.number(),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
          check: z.string(),
          service: z.string().optional(),
          database: z.string().optional(),
          user: z.string().optional(),
          image: z.string().optional(),
          volume: z.string().optional(),
          tables: z.number().optional(),
          files: z.number().optional(),
        })
        .loose(),
    ),
    /** Items retention removed from this set, by name. */
    pruned: z.array(z.string()).optional(),
  })
  .loose();
export type Manifest = z.output<typeof manifestSchema>;
export type ManifestItem = Manifest['items'][number];

export type SetState = 'published' | 'partial' | 'unreadable';

export interface SetInfo {
  name: string;
  /** published: manifest present and readable; partial: a run's work in progress or its leftovers. */
  state: SetState;
  sizeKb: number;
  manifest?: Manifest;
  problem?: string;
}

/** One line of .rigger/runs.log: what each run (manual or scheduled) did. */
export const runLogEntry = z
  .object({
    at: z.string(),
    kind: z.enum(['set', 'offsite']),
    status: z.enum(['ok', 'failed']),
    trigger: z.enum(['manual', 'schedule']),
    set: z.string().optional(),
    bytes: z.number().optional(),
    item: z.string().optional(),
    reason: z.string().optional(),
    seconds: z.number().optional(),
  })
  .loose();
export type RunLogEntry = z.output<typeof runLogEntry>;

export interface Listing {
  rootExists: boolean;
  sets: SetInfo[];
  log: RunLogEntry[];
  availKb: number;
}

export const RUN_LOG = '.rigger/runs.log';

/**
 * Every set directory with its size and manifest, the run log's tail, and the free space: one read.
 * The root is a path, or a shell expression (raw) of a loop over directories (the off-site copy lists each copies/H).
 */
export function listingCommand(root: string | Raw): Command {
  // A subshell, so a caller can append its own reads after it.
  return sh`(root=${root}
if ! cd -- "$root" 2>/dev/null; then echo '@@noroot'; exit 0; fi
for d in [0-9]*_[0-9]*; do
  [ -d "$d" ] || continue
  echo "@@set $d $(du -sk -- "$d" | cut -f1)"
  if [ -f "$d/manifest.json" ]; then base64 -w0 < "$d/manifest.json"; fi
  echo
done
echo '@@log'
if [ -f ${RUN_LOG} ]; then tail -n 1000 ${RUN_LOG} | base64 -w0; fi
echo
echo "@@df $(df -Pk . | awk 'NR==2 {print $4}')")`;
}

export function parseListing(r: ExecResult): Listing {
  const lines = r.stdout.toString('utf8').split('\n');
  if (lines[0] === '@@noroot') return { rootExists: false, sets: [], log: [], availKb: 0 };
  if (r.code !== 0) throw new Error(`cannot list the backup root: ${r.stderr.toString('utf8').trim()}`);
  const listing: Listing = { rootExists: true, sets: [], log: [], availKb: 0 };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('@@set ')) {
      const [, dir, kb] = line.split(' ');
      const body = lines[++i] ?? '';
      const partial = dir!.endsWith('.partial');
      const name = partial ? dir!.slice(0, -'.partial'.length) : dir!;
      if (!SET_NAME.test(name)) continue;
      const info: SetInfo = { name, state: 'partial', sizeKb: Number(kb) };
      if (!partial && body) {
        try {
          info.manifest = manifestSchema.parse(JSON.parse(Buffer.from(body, 'base64').toString('utf8')));
          info.state = info.manifest.set === name ? 'published' : 'unreadable';
          if (info.state === 'unreadable') info.problem = `manifest names set ${info.manifest.set}`;
        } catch (err) {
          info.state = 'unreadable';
          info.problem = `manifest.json unreadable: ${(err as Error).message.split('\n')[0]}`;
        }
      } else if (!partial) info.problem = 'no manifest.json: never published';
      listing.sets.push(info);
    } else if (line === '@@log') {
      const text = Buffer.from(lines[++i] ?? '', 'base64').toString('utf8');
      for (const l of text.split('\n').filter(Boolean)) {
        try {
          listing.log.push(runLogEntry.parse(JSON.parse(l)));
        } catch {
          // A torn or foreign line is skipped, not fatal: the sets themselves are the truth.
        }
      }
    } else if (line.startsWith('@@df ')) listing.availKb = Number(line.slice(5));
  }
  listing.sets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return listing;
}

/** A listing the same command followed with `@@TAG` and more output: the listing, and the text after the tag. */
export function parseListingThen(r: ExecResult, tag: string): { listing: Listing; rest?: string } {
  const text = r.stdout.toString('utf8');
  const mark = `\n@@${tag}\n`;
  const at = text.indexOf(mark);
  const listing = parseListing({ ...r, stdout: Buffer.from(at < 0 ? text : text.slice(0, at + 1)) });
  return at < 0 ? { listing } : { listing, rest: text.slice(at + mark.length) };
}

/** The newest published set's name, for `--verify latest` and `--from latest`. */
export function latestSet(listing: Listing): string | undefined {
  return listing.sets.filter((s) => s.state === 'published').at(-1)?.name;
}
