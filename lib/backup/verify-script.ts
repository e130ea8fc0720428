import { sh, type Command } from '../shell/command.ts';
import type { Remote } from '../model/op.ts';
import { quote } from '../shell/quote.ts';
import type { Manifest } from './listing.ts';
import { REMOTE_HELPERS } from './remote-helpers.ts';

const q = (s: string | number) => quote(String(s)).toString('utf8');

/**
 * Re-checks a published set where it lies: each item's sha256 against the
 * manifest, then a full read of the artefact by its kind. Changes nothing.
 * One line per item: `@@ok NAME detail` or `@@bad NAME reason`.
 */
export function verifyCommand(dir: string, manifest: Manifest, opts: { deferDumpsWithoutDocker?: boolean } = {}): Command {
  const checks = manifest.items.map((item) => {
    const read =
      item.kind === 'postgres'
        ? `${opts.deferDumpsWithoutDocker ? 'no_docker && defer || ' : ''}read_dump "$f" ${q(item.service ?? '')} ${q(item.image ?? '')}`
        : item.kind === 'gitea'
          ? 'read_zip "$f"'
          : 'read_tar "$f"';
    const unit = item.kind === 'postgres' ? 'tables' : 'entries';
    return `check_item ${q(item.name)} ${q(item.file)} ${q(item.sha256)} ${q(unit)} ${q(read)}`;
  });
  const script = [
    'set -uo pipefail',
    'export LC_ALL=C',
    'work= err= published=1',
    REMOTE_HELPERS,
    // fail() exits; a verify reports every item instead.
    'trap - EXIT',
    `cd -- ${q(dir)} || { echo "@@bad set the set directory is missing"; exit 0; }`,
    // Recovery verifies before Docker is back: a dump is then read in full by the controller (@@pending).
    'no_docker() { ! docker info >/dev/null 2>&1; }',
    'defer() { echo PENDING; }',
    'err=$(mktemp); trap \'rm -f -- "$err"\' EXIT',
    String.raw`check_item() {
  local f=$2 sum n
  if [ ! -f "$f" ]; then echo "@@bad $1 $f is missing"; return; fi
  sum=$(sha256sum -- "$f" | cut -d' ' -f1)
  if [ "$sum" != "$3" ]; then echo "@@bad $1 sha256 $sum differs from the manifest's $3"; return; fi
  if n=$(eval "$5" 2> "$err"); then
    if [ "$n" = PENDING ]; then echo "@@pending $1 sha256 matches; no Docker here to read it"; else echo "@@ok $1 sha256 matches; full read: $n $4"; fi
  else echo "@@bad $1 sha256 matches but the full read failed: $(errtail)"; fi
}`,
    ...checks,
  ].join('\n');
  return sh`bash -c ${script} rigger-verify`;
}

export interface ItemVerdict {
  item: string;
  ok: boolean;
  detail: string;
  /** Checksum good, full read still to do elsewhere (no Docker on the host). */
  pending?: boolean;
}

export function parseVerifyOutput(stdout: string): ItemVerdict[] {
  return stdout
    .split('\n')
    .filter((l) => /^@@(ok|bad|pending) /.test(l))
    .map((l) => {
      const tag = l.slice(2, l.indexOf(' '));
      const rest = l.slice(tag.length + 3);
      const sp = rest.indexOf(' ');
      const v: ItemVerdict = { item: sp < 0 ? rest : rest.slice(0, sp), ok: tag === 'ok', detail: sp < 0 ? '' : rest.slice(sp + 1) };
      if (tag === 'pending') v.pending = true;
      return v;
    });
}

/**
 * Runs the verify script on a set's directory: one verdict per manifest
 * item, an item the script never reached counted as bad. With
 * deferDumpsWithoutDocker, dumps on a host without Docker come back pending.
 */
export async function verifyItems(remote: Remote, dir: string, manifest: Manifest, opts: { deferDumpsWithoutDocker?: boolean } = {}): Promise<ItemVerdict[]> {
  const r = await remote.check(verifyCommand(dir, manifest, opts));
  const items = parseVerifyOutput(r.stdout.toString('utf8'));
  for (const m of manifest.items) if (!items.some((v) => v.item === m.name)) items.push({ item: m.name, ok: false, detail: 'not checked (the verify script stopped early)' });
  return items;
}
