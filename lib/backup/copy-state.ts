import { sh, type Command } from '../shell/command.ts';
import type { ExecResult } from '../transport/types.ts';
import { manifestSchema, type Manifest } from './listing.ts';

/**
 * What a copy of a set (or any set directory) holds, judged on the host it
 * lies on: its manifest, and every file's size, or with `sha256` every
 * file's checksum too (the newest set's copy: a flipped byte keeps the size).
 */
export interface CopyState {
  /** verified: the manifest names this set and every item it lists is there as it records. */
  state: 'verified' | 'missing' | 'damaged';
  /** What was compared: sizes only, or sizes and sha256. */
  checked: 'sizes' | 'sha256';
  problem?: string;
  manifest?: Manifest;
}

/**
 * One read: `@@none`, or the manifest (base64) then `SIZE NAME` (and `SHA NAME`) per file.
 * stat and sha256sum over `*` rather than GNU find's -printf: the copy host may be DSM.
 */
export function copyStateCommand(dir: string, sha256: boolean): Command {
  return sh`(cd -- ${dir} 2>/dev/null && [ -f manifest.json ] || { echo '@@none'; exit 0; }
echo '@@manifest'; base64 -w0 < manifest.json; echo
echo '@@sizes'; stat -c '%s %n' -- * 2>/dev/null
if [ ${sha256 ? '1' : '0'} = 1 ]; then echo '@@sha256'; sha256sum -- * 2>/dev/null; fi; true)`;
}

/** Pure: the read's output against the set's name. */
export function parseCopyState(r: ExecResult, set: string, sha256: boolean): CopyState {
  const checked = sha256 ? 'sha256' : 'sizes';
  const lines = r.stdout.toString('utf8').split('\n');
  if (lines[0] === '@@none') return { state: 'missing', checked, problem: 'no copy (or no manifest.json)' };
  if (r.code !== 0 || lines[0] !== '@@manifest') throw new Error(`cannot read the copy: ${r.stderr.toString('utf8').trim()}`);
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(Buffer.from(lines[1] ?? '', 'base64').toString('utf8')));
  } catch (err) {
    return { state: 'damaged', checked, problem: `manifest.json unreadable: ${(err as Error).message.split('\n')[0]}` };
  }
  if (manifest.set !== set) return { state: 'damaged', checked, problem: `its manifest names set ${manifest.set}`, manifest };
  const sizes = new Map<string, number>();
  const sums = new Map<string, string>();
  let section = '';
  for (const line of lines.slice(2)) {
    if (line.startsWith('@@')) section = line;
    else if (!line) continue;
    else if (section === '@@sizes') {
      const sp = line.indexOf(' ');
      sizes.set(line.slice(sp + 1), Number(line.slice(0, sp)));
    } else if (section === '@@sha256') {
      const m = /^([0-9a-f]{64}) [ *](.*)$/.exec(line);
      if (m) sums.set(m[2]!, m[1]!);
    }
  }
  for (const i of manifest.items) {
    const size = sizes.get(i.file);
    if (size === undefined) return { state: 'damaged', checked, problem: `${i.file} is missing`, manifest };
    if (size !== i.bytes) return { state: 'damaged', checked, problem: `${i.file} is ${size} bytes, the manifest says ${i.bytes}`, manifest };
    if (sha256 && sums.get(i.file) !== i.sha256) return { state: 'damaged', checked, problem: `${i.file}'s sha256 differs from the manifest's`, manifest };
  }
  return { state: 'verified', checked, manifest };
}
