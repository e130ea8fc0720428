import { z } from '../../core/zod.ts';
import { requireThat, sh, type Command } from '../../core/command.ts';
import { absolutePath, defineOp, OpFailure, type Decision } from '../../core/op.ts';
import { listingCommand, parseListingThen, type Listing } from '../../backup/listing.ts';
import { SET_NAME } from '../../backup/retention.ts';
import type { ExecResult } from '../../transport/types.ts';

/** Where the playbook writes rclone's config when the inventory gives one (a !vault value). */
export const RCLONE_CONFIG = '/etc/rigger/rclone.conf';

const schema = z
  .object({
    root: absolutePath,
    remote: z.string().min(1),
    maxDelete: z.number().int().min(0),
    /** Use RCLONE_CONFIG instead of rclone's default config. */
    ownConfig: z.boolean().default(false),
  })
  .strict();
type P = z.output<typeof schema>;

interface OffsiteState {
  local: Listing;
  rclone: 'ok' | 'missing' | { error: string };
  remoteSets: string[];
}

export interface OffsiteResult {
  copied: string[];
  deleted: string[];
  files: number;
}

const configArgs = (p: P): string[] => (p.ownConfig ? ['--config', RCLONE_CONFIG] : []);

function probeCommand(p: P): Command {
  return sh`${listingCommand(p.root)}
echo '@@remote'
if command -v rclone >/dev/null; then
  if out=$(rclone lsf --dirs-only ${configArgs(p)} -- ${p.remote} 2>&1); then echo '@@rclone ok'; printf '%s\n' "$out"
  else case "$out" in *"directory not found"*) echo '@@rclone ok' ;; *) echo "@@rclone $(printf '%s' "$out" | tr '\n' ' ')" ;; esac
  fi
else echo '@@rclone missing'; fi`;
}

function parseProbe(r: ExecResult): OffsiteState {
  const { listing: local, rest } = parseListingThen(r, 'remote');
  const remoteLines = rest === undefined ? [] : rest.split('\n');
  const status = remoteLines.shift() ?? '';
  const rclone = status === '@@rclone ok' ? 'ok' : status === '@@rclone missing' ? 'missing' : { error: status.replace(/^@@rclone /, '') };
  const remoteSets = remoteLines.map((l) => l.replace(/\/$/, '')).filter((l) => SET_NAME.test(l));
  return { local, rclone, remoteSets };
}

/**
 * Copies verified sets to an rclone remote, files first and each set's
 * manifest after them, so a set on the remote has a manifest only when its
 * files arrived. `copy`, never `sync`: the only deletions are sets that
 * retention removed here, purged by name, and refused when more than
 * maxDelete; an empty or missing backup root is refused before rclone runs.
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
    const deleted = s.remoteSets.filter((r) => !verified.includes(r));
    if (deleted.length > p.maxDelete) {
      return { kind: 'fail', reason: `refusing the off-site copy: it would delete ${deleted.length} sets on ${p.remote}, more than max_delete ${p.maxDelete} (${deleted.join(', ')})` };
    }
    const fresh = verified.filter((v) => !s.remoteSets.includes(v));
    const result: OffsiteResult = { copied: fresh, deleted, files: 0 };
    const filter = (lines: string[]) => lines.map((l) => `${l}\n`).join('');
    const files = filter(['- /*/manifest.json', ...verified.map((v) => `+ /${v}/**`), '- **']);
    const manifests = filter([...verified.map((v) => `+ /${v}/manifest.json`), '- **']);
    const cfg = configArgs(p);
    const script = sh`set -euo pipefail
f=$(mktemp); trap 'rm -f -- "$f"' EXIT
printf '%s' ${files} > "$f"
rclone copy ${cfg} --filter-from "$f" -v -- ${p.root} ${p.remote} 2>&1
printf '%s' ${manifests} > "$f"
rclone copy ${cfg} --filter-from "$f" -v -- ${p.root} ${p.remote} 2>&1
for s in ${deleted}; do rclone purge ${cfg} -- ${p.remote}/"$s" 2>&1; echo "@@deleted $s"; done`;
    return {
      kind: 'change',
      msg: `copy ${verified.length} verified sets to ${p.remote} (${fresh.length} new)${deleted.length ? `, delete ${deleted.join(', ')} there` : ''}`,
      checkResult: result,
      apply: async (remote) => {
        const r = await remote.run(sh`${requireThat(sh`command -v rclone`, 'rclone is not installed')} && bash -c ${script.bytes}`);
        const out = r.stdout.toString('utf8');
        if (r.code !== 0) throw new OpFailure(`off-site copy to ${p.remote} failed: ${out.trim().split('\n').slice(-3).join(' ')}`, r);
        return { copied: fresh, deleted: out.split('\n').filter((l) => l.startsWith('@@deleted ')).map((l) => l.slice(10)), files: out.split('\n').filter((l) => / Copied \(/.test(l)).length };
      },
      unchanged: (res) => res.files === 0 && res.deleted.length === 0,
    };
  },
});
