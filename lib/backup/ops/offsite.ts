import { z } from '../../shell/zod.ts';
import { raw, requireThat, sh, type Command } from '../../shell/command.ts';
import { absolutePath, defineOp, OpFailure, type Decision } from '../../model/op.ts';
import { ITEM_KINDS, retentionRule } from '../config.ts';
import { listingCommand, parseListing, type SetInfo } from '../listing.ts';
import { offsiteAccess, rcloneVia } from '../offsite-access.ts';
import { COPIES_DIR, mirrorDirs, planMirror, remoteDirs } from '../offsite-mirror.ts';
import { remotePath } from '../offsite-target.ts';
import { lsjsonOutput } from '../remote-sets.ts';
import { notReady, rcloneReady } from '../rclone-runner.ts';
import type { ExecResult } from '../../transport/types.ts';

export { RCLONE_CONFIG } from '../offsite-target.ts';

const rules = z.record(z.enum(ITEM_KINDS), retentionRule);

const schema = z
  .object({
    root: absolutePath,
    /** How rclone runs here, the remote (the crypt remote when encrypted) and its config. */
    access: offsiteAccess,
    maxDelete: z.number().int().min(0),
    /** The retention policy the remote's copy of this host's own sets follows (backup_retention). */
    rules,
    /** The policy of each host whose copies this root holds (copies/HOST): that host's backup_retention; else `rules`. */
    copyRules: z.record(z.string(), rules).default({}),
  })
  .strict();
type P = z.output<typeof schema>;

interface OffsiteState {
  rootExists: boolean;
  own: SetInfo[];
  copies: Map<string, SetInfo[]>;
  rclone: 'ok' | 'missing' | { error: string };
  files: { Path: string; Size: number }[];
  manifests: Map<string, string>;
}

export interface OffsiteResult {
  /** Sets new on the remote: SET, or copies/HOST/SET. */
  copied: string[];
  deleted: string[];
  files: number;
}

/**
 * The root's listing and each copies/HOST's, then the remote's files with
 * their sizes and every manifest on it (fetched into a temp directory by
 * one rclone copy), so the remote's sets are judged by what it holds.
 */
function probeCommand(p: P): Command {
  const rclone = rcloneVia(p.access, [{ shellVar: 'm' }]);
  return sh`${listingCommand(p.root)}
echo '@@copies'
for d in ${p.root}/${raw(COPIES_DIR)}/*/; do
  [ -d "$d" ] || continue
  echo "@@copyhost $(basename -- "$d")"
  ${listingCommand(raw('"$d"'))}
done
echo '@@remote'
if ${rcloneReady(p.access.runner)}; then
  e=$(mktemp); m=$(mktemp -d)
  if files=$(${rclone} lsjson -R --files-only --no-modtime --no-mimetype -- ${p.access.remote} 2>"$e") && ${rclone} copy --include '/*/manifest.json' --include ${`/${COPIES_DIR}/*/*/manifest.json`} -- ${p.access.remote} "$m" 2>>"$e"; then
    echo '@@rclone ok'; printf '%s' "$files" | base64 -w0; echo
    for f in "$m"/*/manifest.json "$m"/${raw(COPIES_DIR)}/*/*/manifest.json; do [ -f "$f" ] && printf '@@manifest %s %s\\n' "\${f#"$m"/}" "$(base64 -w0 < "$f")"; done
  else
    out=$(tr '\\n' ' ' < "$e")
    case "$out" in *"directory not found"*) echo '@@rclone ok'; echo ;; *) echo "@@rclone $out" ;; esac
  fi
  rm -rf -- "$e" "$m"
else echo '@@rclone missing'; fi
true`;
}

const asResult = (r: ExecResult, text: string): ExecResult => ({ ...r, code: 0, stdout: Buffer.from(text) });

function parseProbe(r: ExecResult): OffsiteState {
  const text = r.stdout.toString('utf8');
  const [front = '', rest] = text.split('\n@@remote\n');
  const [ownText = '', copiesText = ''] = front.split('\n@@copies\n');
  const own = parseListing(asResult(r, `${ownText}\n`));
  const copies = new Map<string, SetInfo[]>();
  for (const chunk of copiesText.split(/^@@copyhost /m).filter(Boolean)) {
    const nl = chunk.indexOf('\n');
    copies.set(chunk.slice(0, nl), parseListing(asResult(r, chunk.slice(nl + 1))).sets);
  }
  const base = { rootExists: own.rootExists, own: own.sets, copies, files: [], manifests: new Map<string, string>() };
  const lines = rest === undefined ? [] : rest.split('\n');
  const status = lines.shift() ?? '';
  if (status !== '@@rclone ok') return { ...base, rclone: status === '@@rclone missing' ? 'missing' : { error: status.replace(/^@@rclone /, '').trim() } };
  const listed = Buffer.from(lines.shift() ?? '', 'base64').toString('utf8').trim();
  const files = listed ? lsjsonOutput.parse(JSON.parse(listed)) : [];
  for (const l of lines) {
    const [tag, name, b64] = l.split(' ');
    if (tag === '@@manifest' && name?.endsWith('/manifest.json')) base.manifests.set(name.slice(0, -'/manifest.json'.length), Buffer.from(b64 ?? '', 'base64').toString('utf8'));
  }
  return { ...base, files, rclone: 'ok' };
}

/**
 * Copies the verified sets under a backup root to an rclone remote that
 * mirrors it: the host's own sets to REMOTE/SET and the copies it holds of
 * other hosts' sets (copies/HOST/SET) to REMOTE/copies/HOST/SET. Files
 * first and each set's manifest after them, so a set on the remote has a
 * manifest only when its files arrived. `copy`, never `sync`. Retention of
 * each remote directory follows its own verified sets and the policy of
 * the host whose sets they are (backup/offsite-mirror.ts), never what is
 * missing here; the copy is refused when it would delete more than
 * maxDelete sets in all. An empty or missing backup root is refused before
 * rclone runs.
 */
export const offsiteCopy = defineOp({
  kind: 'backup.offsite',
  schema,
  describe: (p) => `${p.root} -> ${p.access.remote}`,
  probe: (p) => ({ command: probeCommand(p), parse: parseProbe }),
  decide: (p, s: OffsiteState): Decision<OffsiteResult> => {
    const remote = p.access.remote;
    if (typeof s.rclone === 'object') return { kind: 'fail', reason: `rclone cannot read ${remote}: ${s.rclone.error}` };
    const verified = [s.own, ...s.copies.values()].flat().filter((x) => x.state === 'published');
    if (!s.rootExists || verified.length === 0) {
      return { kind: 'fail', reason: `refusing the off-site copy: ${s.rootExists ? `no verified set under ${p.root}` : `${p.root} does not exist`} (copying an empty source would be the first step to an empty remote)` };
    }
    const dirs = mirrorDirs(s.own, s.copies, remoteDirs(s.files, s.manifests));
    const plan = planMirror(dirs, (host) => (host === undefined ? p.rules : (p.copyRules[host] ?? p.rules)));
    const deleted = plan.delete;
    if (deleted.length > p.maxDelete) {
      return { kind: 'fail', reason: `refusing the off-site copy: it would delete ${deleted.length} sets on ${remote}, more than max_delete ${p.maxDelete} (${deleted.join(', ')})` };
    }
    const result: OffsiteResult = { copied: plan.fresh, deleted, files: 0 };
    const filter = (lines: string[]) => lines.map((l) => `${l}\n`).join('');
    const files = filter(['- /*/manifest.json', `- /${COPIES_DIR}/*/*/manifest.json`, ...plan.copy.map((v) => `+ /${v}/**`), '- **']);
    const manifests = filter([...plan.copy.map((v) => `+ /${v}/manifest.json`), '- **']);
    const rclone = rcloneVia(p.access, [p.root, { shellVar: 'w' }]);
    // Deletions come last: a copy that fails stops the script before any.
    const script = sh`set -euo pipefail
w=$(mktemp -d); trap 'rm -rf -- "$w"' EXIT
printf '%s' ${files} > "$w/filter"
${rclone} copy --filter-from "$w/filter" -v -- ${p.root} ${remote} 2>&1
printf '%s' ${manifests} > "$w/filter"
${rclone} copy --filter-from "$w/filter" -v -- ${p.root} ${remote} 2>&1
for s in ${deleted}; do ${rcloneVia(p.access, [])} purge -- ${remotePath(remote, '')}"$s" 2>&1; echo "@@deleted $s"; done`;
    const notes = [
      deleted.length ? `delete ${deleted.join(', ')} there (retention)` : '',
      plan.held.length ? `keep ${plan.held.join(', ')} there until a newer set is verified on the remote` : '',
      ...plan.unverified.map((u) => `leave ${u.name} alone (not verified there: ${u.problem})`),
    ].filter(Boolean);
    return {
      kind: 'change',
      msg: `copy ${plan.copy.length} verified sets to ${remote} (${plan.fresh.length} new)${notes.map((n) => `; ${n}`).join('')}`,
      checkResult: result,
      apply: async (host) => {
        const r = await host.run(sh`${requireThat(rcloneReady(p.access.runner), notReady(p.access.runner))} && bash -c ${script.bytes}`);
        const out = r.stdout.toString('utf8');
        if (r.code !== 0) throw new OpFailure(`off-site copy to ${remote} failed: ${out.trim().split('\n').slice(-3).join(' ')}`, r);
        return { copied: plan.fresh, deleted: out.split('\n').filter((l) => l.startsWith('@@deleted ')).map((l) => l.slice(10)), files: out.split('\n').filter((l) => / Copied \(/.test(l)).length };
      },
      unchanged: (res) => res.files === 0 && res.deleted.length === 0,
    };
  },
});
