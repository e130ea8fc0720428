import { pythonRegExp, translatePythonRegex } from './python-regex.ts';

/**
 * Ansible's blockinfile (ansible-core 2.14) as a pure function of a file's
 * text, byte for byte. The block lives between two marker lines; the last
 * BEGIN and the last END marker in the file are the block (in either
 * order, so a damaged pair is repaired, not duplicated). Without both, the
 * block goes after the last line matching `insertAfter`, before the last
 * matching `insertBefore`, at BOF, or at the end. An empty block, or state
 * absent, removes the markers and what is between them; without markers it
 * leaves the file as it is (Ansible may add a final newline: docs/ops.md, deliberate differences).
 */
export interface BlockSpec {
  block: string;
  /** The marker template; {mark} becomes markerBegin or markerEnd. */
  marker: string;
  markerBegin?: string | undefined;
  markerEnd?: string | undefined;
  state: 'present' | 'absent';
  insertAfter?: string | undefined;
  insertBefore?: string | undefined;
}

/** Lines with their endings as Python's bytes.splitlines(True): after \n, \r\n or a lone \r. */
function splitLines(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/** Where a new block goes when the file has no complete marker pair. */
function insertionPoint(text: string, lines: string[], spec: BlockSpec): number {
  const insertAfter = spec.insertAfter ?? (spec.insertBefore === undefined ? 'EOF' : undefined);
  const anchor = insertAfter !== undefined && insertAfter !== 'EOF' ? insertAfter : spec.insertBefore !== 'BOF' ? spec.insertBefore : undefined;
  if (anchor === undefined) return insertAfter !== undefined ? lines.length : 0;
  let at: number | undefined;
  if (translatePythonRegex(anchor).multiline) {
    // A (?m) pattern is searched in the whole file, so it can span lines.
    const m = pythonRegExp(anchor).exec(text);
    if (m) at = (text.slice(0, insertAfter !== undefined ? m.index + m[0].length : m.index).match(/\n/g) ?? []).length;
  } else {
    const re = pythonRegExp(anchor);
    lines.forEach((l, i) => {
      if (re.test(l)) at = i;
    });
  }
  if (at === undefined) return lines.length;
  return insertAfter !== undefined ? at + 1 : at;
}

export function editBlock(text: string, spec: BlockSpec): string {
  const begin = spec.marker.replaceAll('{mark}', spec.markerBegin ?? 'BEGIN') + '\n';
  const end = spec.marker.replaceAll('{mark}', spec.markerEnd ?? 'END') + '\n';
  const lines = splitLines(text);
  let body: string[] = [];
  if (spec.state === 'present' && spec.block !== '') body = [begin, ...splitLines(spec.block.endsWith('\n') ? spec.block : spec.block + '\n'), end];
  const b = lines.lastIndexOf(begin);
  const e = lines.lastIndexOf(end);
  // Nothing to remove and nothing to add: Ansible would still end the line
  // before its insertion point with a newline, and so change the file on the
  // run after a block was removed. rigger leaves the file alone.
  if ((b === -1 || e === -1) && body.length === 0) return text;
  let at: number;
  if (b === -1 || e === -1) at = insertionPoint(text, lines, spec);
  else {
    at = Math.min(b, e);
    lines.splice(at, Math.abs(e - b) + 1);
  }
  if (at > 0 && !lines[at - 1]!.endsWith('\n')) lines[at - 1] += '\n';
  lines.splice(at, 0, ...body);
  return lines.join('');
}
