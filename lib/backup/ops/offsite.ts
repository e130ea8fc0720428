import { z } from '../../shell/zod.ts';
import { requireThat, sh, type Command } from '../../shell/command.ts';
import { absolutePath, defineOp, OpFailure, type Decision } from '../../model/op.ts';
import { ITEM_KINDS, retentionRule } from '../config.ts';
import { listingCommand, parseListingThen, type Listing } from '../listing.ts';
import { planOffsite } from '../offsite-plan.ts';
import { lsjsonOutput, remoteSets, type RemoteSet } from '../remote-sets.ts';
import type { ExecResult } from '../../transport/types.ts';

/** Where the playbook writes rclone's config when the inventory gives one (a !vault value). */
export const RCLONE_CONFIG = '/etc/rigger/rclone.conf';

const schema = z
  .object({
    root: absolutePath,
    remote: z.string().min(1),
    maxDelete: z.number().int().min(0),
    /** The retention policy the remote's own sets follow (backup_retention). */
    rules: z.record(z.enum(ITEM_KINDS), retentionRule),
    /** Use RCLONE_CONFIG instead of rclone's default config. */
    ownConfig: z.boolean().default(false),
  })
  .strict();
type P = z.output<typeof schema>;

interface OffsiteState {
  local: Listing;
  rclone: 'ok' | 'missing' | { error: string };
  remote: RemoteSet[];
}

export interface OffsiteResult {
  copied: string[];
  deleted: string[];
  files: number;
}

const configArgs = (p: P): string[] => (p.ownConfig ? ['--config', RCLONE_CONFIG] : []);

/**
 * The local listing, then the remote's files with their sizes and every
 * manifest on it (fetched into a temp directory by one rclone copy), so
 * the remote's sets are judged by what the remote holds.
 */
function probeCommand(p: P): Command {
  const cfg = configArgs(p);
  return sh`${listingCommand(p.root)}
echo '@@remote'
if command -v rclone >/dev/null; then
  e=$(mktemp); m=$(mktemp -d)
  if files=$(rclone lsjson -R --files-only --no-modtime --no-mimetype ${cfg} -- ${p.remote} 2>"$e") && rclone copy ${cfg} --include '/*/manifest.json' -- ${p.remote} "$m" 2>>"$e"; then
    echo '@@rclone ok'; printf '%s' "$files" | base64 -w0; echo
    for f in "$m"/*/manifest.json; do [ -f "$f" ] && printf '@@manifest %s %s\\n' "$(basename -- "$(dirname -- "$f")")" "$(base64 -w0 < "$f")"; done
  else
    out=$(tr '\\n' ' ' < "$e")
    case "$out" in *"directory not found"*) echo '@@rclone ok'; echo ;; *) echo "@@rclone $out" ;; esac
  fi
  rm -rf -- "$e" "$m"
else echo '@@rclone missing'; fi
true`;
}

function parseProbe(r: ExecResult): OffsiteState {
  const { listing: local, rest } = parseListingThen(r, 'remote');
  const lines = rest === undefined ? [] : rest.split('\n');
  const status = lines.shift() ?? '';
  if (status !== '@@rclone ok') return { local, rclone: status === '@@rclone missing' ? 'missing' : { error: status.replace(/^@@rclone /, '').trim() }, remote: [] };
  const listed = Buffer.from(lines.shift() ?? '', 'base64').toString('utf8').trim();
  const files = listed ? lsjsonOutput.parse(JSON.parse(listed)) : [];
  const manifests = new Map<string, string>();
  for (const l of lines) {
    const [tag, name, b64] = l.split(' ');
    if (tag === '@@manifest' && name) manifests.set(name, Buffer.from(b64 ?? '', 'base64').toString('utf8'));
  }
  return { local, rclone: 'ok', remote: remoteSets(files, manifests) };
}

/**
 * Copies verified sets to an rclone remote, files first and each set's
 * manifest after them, so a set on the remote has a manifest only when its
 * files arrived. `copy`, never `sync`. Retention of the remote follows the
 * remote's own verified sets and the retention policy (backup/offsite-plan.ts),
 * never what is missing here: a set is purged by name only when the policy
 * drops it and a newer kept set is verified on the remote, and the copy is
 * refused when that is more than maxDelete sets. An empty or missing backup
 * root is refused before rclone runs.
 */
export const offsiteCopy = defineOp({
  kind: 'backup.offsite',
  schema,
  describe: (p) => `${p.root} -> ${p.remote}`,
  probe: (p) => ({ command: probeCommand(p), parse: parseProbe }),
  decide: (p, s: OffsiteState): Decision<OffsiteResult> => {
    if (typeof s.rclone === 'object') return { kind: 'fail', reason: `rclone cannot read ${p.remote}: ${s.rclone.error}` };
    const verified = s.local.sets.filter((x) => x.state === 'published').map((x) => x.name);
    if (!s.local.rootExists || verified.length === 0) {
      return { kind: 'fail', reason: `refusing the off-site copy: ${s.local.rootExists ? `no verified set under ${p.root}` : `${p.root} does not exist`} (copying an empty source would be the first step to an empty remote)` };
    }
    const plan = planOffsite(s.local.sets, s.remote, p.rules);
    const deleted = plan.delete;
    if (deleted.length > p.maxDelete) {
      return { kind: 'fail', reason: `refusing the off-site copy: it would delete ${deleted.length} sets on ${p.remote}, more than max_delete ${p.maxDelete} (${deleted.join(', ')})` };
    }
    const result: OffsiteResult = { copied: plan.fresh, deleted, files: 0 };
    const filter = (lines: string[]) => lines.map((l) => `${l}\n`).join('');
    const files = filter(['- /*/manifest.json', ...plan.copy.map((v) => `+ /${v}/**`), '- **']);
    const manifests = filter([...plan.copy.map((v) => `+ /${v}/manifest.json`), '- **']);
    const cfg = configArgs(p);
    // Deletions come last: a copy that fails stops the script before any.
    const script = sh`set -euo pipefail
f=$(mktemp); trap 'rm -f -- "$f"' EXIT
printf '%s' ${files} > "$f"
rclone copy ${cfg} --filter-from "$f" -v -- ${p.root} ${p.remote} 2>&1
printf '%s' ${manifests} > "$f"
rclone copy ${cfg} --filter-from "$f" -v -- ${p.root} ${p.remote} 2>&1
for s in ${deleted}; do rclone purge ${cfg} -- ${p.remote}/"$s" 2>&1; echo "@@deleted $s"; done`;
    const notes = [
      deleted.length ? `delete ${deleted.join(', ')} there (retention)` : '',
      plan.held.length ? `keep ${plan.held.join(', ')} there until a newer set is verified on the remote` : '',
      ...plan.unverified.map((u) => `leave ${u.name} alone (not verified there: ${u.problem})`),
    ].filter(Boolean);
    return {
      kind: 'change',
      msg: `copy ${plan.copy.length} verified sets to ${p.remote} (${plan.fresh.length} new)${notes.map((n) => `; ${n}`).join('')}`,
      checkResult: result,
      apply: async (remote) => {
        const r = await remote.run(sh`${requireThat(sh`command -v rclone`, 'rclone is not installed')} && bash -c ${script.bytes}`);
        const out = r.stdout.toString('utf8');
        if (r.code !== 0) throw new OpFailure(`off-site copy to ${p.remote} failed: ${out.trim().split('\n').slice(-3).join(' ')}`, r);
        return { copied: plan.fresh, deleted: out.split('\n').filter((l) => l.startsWith('@@deleted ')).map((l) => l.slice(10)), files: out.split('\n').filter((l) => / Copied \(/.test(l)).length };
      },
      unchanged: (res) => res.files === 0 && res.deleted.length === 0,
    };
  },
});
